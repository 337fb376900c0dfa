import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const readme = readFileSync(join(resolve(__dirname, '../..'), 'README.md'), 'utf8');

/** The first fenced block of `language` after `heading` in the README, without its fences, ending in a newline. */
export function readmeBlock(heading: string, language = 'ts'): string {
  const start = readme.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`README.md has no section "${heading}"`);
  const match = new RegExp(`\\n\`\`\`${language}\\n([\\s\\S]*?)\\n\`\`\`\\n`).exec(readme.slice(start));
  if (!match) throw new Error(`README.md: no \`\`\`${language} block under "${heading}"`);
  return `${match[1]}\n`;
}
