#!/usr/bin/env node
// Lists the longest functions under a folder (default main/), counting a factory closure such
// as `createMessaging` as one function with everything inside it: the measure issue 11 uses
// ("the largest function in main/ is under 120 lines"). Usage: node scripts/function-sizes.mjs [dir] [count]
import ts from 'typescript';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const [dir = 'main', count = '15'] = process.argv.slice(2);
const rows = [];

function walk(d) {
  for (const e of readdirSync(d, { withFileTypes: true })) {
    const p = join(d, e.name);
    if (e.isDirectory()) walk(p);
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) scan(p);
  }
}

function nameOf(n) {
  if (n.name) return n.name.getText();
  const p = n.parent;
  if (ts.isVariableDeclaration(p) || ts.isPropertyAssignment(p) || ts.isPropertyDeclaration(p)) return p.name.getText();
  return '<anonymous>';
}

function scan(file) {
  const src = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const line = (pos) => src.getLineAndCharacterOfPosition(pos).line;
  const visit = (n) => {
    if (ts.isFunctionLike(n) && 'body' in n && n.body) {
      rows.push({
        lines: line(n.getEnd()) - line(n.getStart()) + 1,
        at: `${file}:${line(n.getStart()) + 1}`,
        name: nameOf(n),
      });
    }
    ts.forEachChild(n, visit);
  };
  visit(src);
}

walk(dir);
rows.sort((a, b) => b.lines - a.lines);
for (const r of rows.slice(0, Number(count))) console.log(`${String(r.lines).padStart(5)}  ${r.at}  ${r.name}`);
