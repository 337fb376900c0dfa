import { RegionTally } from './perf-regions.js';

const guardCall = { label: 'guard call', frame: /(canActivateFn|tryActivate) .*@nestjs\/core\// };
const library = { label: 'library', frame: /file:\/\/\/app\/dist\// };

/** `perf script -F ip,sym` of three samples: a leaf under the guard call and the library, one under neither, one under the guard call twice. */
const script = [
  '',
  '\t    7f05af812c55 Builtins_StringEqual',
  '\t    7f05af812d00 JS:*rememberedPrincipalOfHeader file:///app/dist/auth/access-token-verifier.js:155:32',
  '\t    7f05af812e00 JS:*canActivateFn file:///app/node_modules/@nestjs/core/router/router-execution-context.js:201:31',
  '\t         14cde03 Builtins_JSEntry',
  '',
  '\t    ffffffff81384913 _raw_spin_unlock_irqrestore',
  '\t          86853f node::Start',
  '',
  '\t    7f05af812c55 Builtins_StringEqual+0x1f',
  '\t    7f05af812f00 JS:*tryActivate file:///app/node_modules/@nestjs/core/guards/guards-consumer.js:5:22',
  '\t    7f05af812e00 JS:*canActivateFn file:///app/node_modules/@nestjs/core/router/router-execution-context.js:201:31',
];

describe('RegionTally (inclusive time under regions of perf call graphs)', () => {
  it('counts a sample once for each region any of its frames is in, and names its leaf', () => {
    const tally = new RegionTally([guardCall, library]);
    for (const line of script) tally.addLine(line);
    // 1e6 µs / (1000 samples/s * 1000 requests) = 1 µs per request per sample.
    const [guard, ours] = tally.times(1000, 1000);
    expect(guard).toEqual({ label: 'guard call', micros: 2, leaves: [{ name: 'Builtins_StringEqual', micros: 2 }] });
    expect(ours).toEqual({ label: 'library', micros: 1, leaves: [{ name: 'Builtins_StringEqual', micros: 1 }] });
  });

  it('reads nothing into a region no frame matches', () => {
    const tally = new RegionTally([{ label: 'none', frame: /nothing-here/ }]);
    for (const line of script) tally.addLine(line);
    expect(tally.times(10, 1000)).toEqual([{ label: 'none', micros: 0, leaves: [] }]);
  });
});
