#!/usr/bin/env node
// A native-solc-like command line over the npm `solc` (solcjs) package, so that py-solc-x,
// forge and slither can drive it where no native compiler can be downloaded.
//   solc --version              -> "solc, the solidity compiler commandline interface\nVersion: ..."
//   solc --standard-json [...]  -> standard JSON in on stdin, standard JSON out on stdout
// Other flags (--allow-paths, --base-path, --include-path) are accepted; their paths become
// import roots. Imports resolve against those roots, the working directory and node_modules.
"use strict";
const fs = require("fs");
const path = require("path");

const projectRoot = path.resolve(__dirname, "..", "..");
const solc = require(require.resolve("solc", { paths: [projectRoot, process.cwd()] }));

const args = process.argv.slice(2);

if (args.includes("--version") || args.includes("-v")) {
  process.stdout.write(
    "solc, the solidity compiler commandline interface\nVersion: " + solc.version() + "\n",
  );
  process.exit(0);
}

if (!args.includes("--standard-json")) {
  process.stderr.write("solc-shim: only --version and --standard-json are supported\n");
  process.exit(2);
}

const roots = [process.cwd(), projectRoot, path.join(projectRoot, "node_modules")];
for (let i = 0; i < args.length; i++) {
  if (["--base-path", "--include-path", "--allow-paths"].includes(args[i]) && args[i + 1]) {
    for (const p of args[i + 1].split(",")) roots.push(path.resolve(p));
    i++;
  }
}

function findImports(importPath) {
  for (const root of roots) {
    const candidate = path.resolve(root, importPath);
    if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) {
      return { contents: fs.readFileSync(candidate, "utf8") };
    }
  }
  return { error: "File not found: " + importPath };
}

const input = fs.readFileSync(0, "utf8");
// Sources given by path only ("urls") are read here, as native solc would.
const parsed = JSON.parse(input);
for (const [name, source] of Object.entries(parsed.sources || {})) {
  if (source.content === undefined && Array.isArray(source.urls)) {
    for (const url of source.urls) {
      const found = findImports(url);
      if (found.contents !== undefined) {
        source.content = found.contents;
        delete source.urls;
        break;
      }
    }
  }
}
process.stdout.write(solc.compile(JSON.stringify(parsed), { import: findImports }));
