// Writes a report to a directory: report.json (everything), chart.svg, table.txt (what stdout
// showed) and report.md (the side-by-side table for a README).
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { formatMarkdown, formatReport } from './format.ts';
import type { BenchReport } from './report.ts';
import { renderSvg } from './svg.ts';

export interface WrittenFiles {
  json: string;
  svg: string;
  text: string;
  markdown: string;
}

/** ./bench-results/2026-01-02T03-04-05Z */
export function defaultOutDir(now = new Date()): string {
  return path.join(
    'bench-results',
    now
      .toISOString()
      .replace(/\.\d+Z$/, 'Z')
      .replace(/:/g, '-'),
  );
}

export async function writeReport(report: BenchReport, dir: string): Promise<WrittenFiles> {
  await mkdir(dir, { recursive: true });
  const files: WrittenFiles = {
    json: path.join(dir, 'report.json'),
    svg: path.join(dir, 'chart.svg'),
    text: path.join(dir, 'table.txt'),
    markdown: path.join(dir, 'report.md'),
  };
  await writeFile(files.json, JSON.stringify(report, null, 2) + '\n');
  await writeFile(files.svg, renderSvg(report));
  await writeFile(files.text, formatReport(report));
  await writeFile(files.markdown, formatMarkdown(report));
  return files;
}
