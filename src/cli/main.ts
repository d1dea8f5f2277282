#!/usr/bin/env node
/** Entry point of the `tsbpf` command. */
import { main } from './app.js';

process.exitCode = await main(process.argv.slice(2));
