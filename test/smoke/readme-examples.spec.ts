import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readmeBlock } from './readme-blocks.js';

const packageRoot = resolve(__dirname, '../..');

describe('the README', () => {
  it('shows test/e2e/readme-example.e2e.spec.ts word for word under "Test your own API"', () => {
    const [, ...body] = readFileSync(join(packageRoot, 'test/e2e/readme-example.e2e.spec.ts'), 'utf8').split('\n');
    expect(readmeBlock('## Test your own API')).toBe(body.join('\n'));
  });

  it('shows the Jest settings this repository runs under "CommonJS and Jest"', async () => {
    const block = readmeBlock('## CommonJS and Jest', 'js');
    const { default: config } = (await import(join(packageRoot, 'jest.config.js'))) as { default: { transform: Record<string, [string, { jsc: { transform: unknown } }]>; transformIgnorePatterns: string[] } };
    const [transformer, swcOptions] = Object.values(config.transform)[0]!;
    expect(transformer).toBe('@swc/jest');
    expect(swcOptions.jsc.transform).toEqual({ legacyDecorator: true, decoratorMetadata: true });
    expect(block).toContain('transform: { legacyDecorator: true, decoratorMetadata: true }');
    const listed = /const esmOnlyPackages = (\[[^\]]*\])/.exec(block);
    expect(listed).not.toBeNull();
    const readmePackages = JSON.parse(listed![1]!.replaceAll("'", '"')) as string[];
    const ours = /\(\?!\((.*)\)\/\)/.exec(config.transformIgnorePatterns[0]!)![1]!.split('|');
    // The README's list is ours plus the package itself (inside this repository Jest maps the name to src/).
    expect(readmePackages).toEqual([...ours, 'nestjs-entra-obo']);
  });
});
