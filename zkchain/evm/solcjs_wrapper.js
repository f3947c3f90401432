#!/usr/bin/env node
// Makes solc-js (npm "solc") look like the native solc binary to py-solc-x.
//
// Only the two calls py-solc-x makes are answered:
//   --version        prints "Version: <solc.version()>"  (py-solc-x parses it with a regex)
//   --standard-json  reads the JSON input from stdin and prints solc's JSON output
// The solc-js package is loaded from $ZKCHAIN_SOLCJS (a path to .../node_modules/solc), else by name.
// Output is written with process.stdout.write and the exit code set on process.exitCode: calling
// process.exit() would cut large outputs that are still being flushed to the pipe.
"use strict";

const solc = require(process.env.ZKCHAIN_SOLCJS || "solc");
const args = process.argv.slice(2);

if (args.includes("--version")) {
  process.stdout.write("solc, the solidity compiler commandline interface\nVersion: " + solc.version() + "\n");
  process.exitCode = 0;
} else if (args.includes("--standard-json")) {
  const chunks = [];
  process.stdin.on("data", (chunk) => chunks.push(chunk));
  process.stdin.on("end", () => {
    try {
      process.stdout.write(solc.compile(Buffer.concat(chunks).toString("utf8")));
      process.exitCode = 0;
    } catch (err) {
      process.stderr.write(String((err && err.stack) || err) + "\n");
      process.exitCode = 1;
    }
  });
} else {
  process.stderr.write("solcjs_wrapper: only --version and --standard-json are supported, got: " +
    args.join(" ") + "\n");
  process.exitCode = 2;
}
