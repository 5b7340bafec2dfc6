#!/usr/bin/env node
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { connect, EXPLORATION_MODES, JOB_STATES, type ConnectionOptions } from './client';
import { cancel, datasets, deleteDataset, entries, exportDataset, generate, list, say, status, stream, type GenerateOptions } from './commands';
import { CliError, EXIT } from './errors';
import { FORMATS, type Format } from './output';

/**
 * datagen: a command line client of the data generation service.
 *
 *   datagen generate --description TEXT --seeds FILE -n 50 [--mode CREATIVE] [--out data.jsonl]
 *   datagen status ID | list [--state S] [--limit N] [--all] | cancel ID | stream ID [--messages]
 *   datagen items ID | rejected ID [--format jsonl|csv] [-o FILE]
 *   datagen datasets | dataset export NAME [--format jsonl|csv|parquet] [-o FILE] | dataset delete NAME
 *
 * The server and key come from --url / --api-key, else from the withpi SDK's
 * own variables PI_CLIENT_BASE_URL and WITHPI_API_KEY.
 */

const VERSION = '0.1.0';

function positiveInteger(name: string, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1 || n > max) {
      throw new InvalidArgumentError(`${name} must be a whole number ${max < Number.MAX_SAFE_INTEGER ? `from 1 to ${max}` : 'of 1 or more'}.`);
    }
    return n;
  };
}

export function buildProgram(setExitCode: (code: number) => void): Command {
  const program = new Command('datagen')
    .description('Generate synthetic LLM inputs with a datagen server (the "data generate" API of Pi Labs).')
    .version(VERSION)
    .option('--url <url>', 'the API address, e.g. http://localhost:8080/v1 (default: $PI_CLIENT_BASE_URL, else http://localhost:8080/v1)')
    .option('--api-key <key>', 'the API key (default: $WITHPI_API_KEY)')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(`datagen: ${text.replace(/^error: /, '')}`) });

  const connection = (command: Command) => {
    const globals = command.optsWithGlobals<ConnectionOptions>();
    return connect({ url: globals.url, apiKey: globals.apiKey });
  };
  const formatOption = () =>
    new Option('--format <format>', 'output format (default: from the --out extension: .csv, .txt = lines; else jsonl)').choices(FORMATS);

  program
    .command('generate')
    .description('start a job, show its progress, and write the inputs as they arrive; Ctrl-C cancels the job')
    .requiredOption('-d, --description <text>', 'what the LLM application does')
    .option('-s, --seeds <file>', 'example inputs: one a line, a JSON array of strings, or JSON Lines (leave out to let the job write its own)')
    .requiredOption('-n, --num <n>', 'how many inputs to generate', positiveInteger('-n'))
    .addOption(new Option('--mode <mode>', 'exploration mode (server default: BALANCED)').choices(EXPLORATION_MODES))
    .option('--batch-size <n>', 'inputs asked for in one LLM call, 1-10 (server default: 5)', positiveInteger('--batch-size', 10))
    .option('--num-shots <n>', 'examples shown in each prompt, 1-10 (server default: 5)', positiveInteger('--num-shots', 10))
    .option('--dataset <name>', "add the inputs to this dataset of the key's, repeating none it holds")
    .option('--economy', "economy mode: through the LLM provider's batch API, at half price, in minutes to hours (not --batch-size)")
    .option('--webhook-url <url>', 'POST a signed event here when the job ends (the server needs WEBHOOK_SECRET)')
    .option('--webhook-progress', 'with --webhook-url: progress events too, every few seconds')
    .option('-o, --out <file>', 'write the inputs to this file (default: stdout)')
    .addOption(formatOption())
    .option('-q, --quiet', 'no progress display')
    .action(async (options: GenerateOptions, command: Command) => {
      setExitCode(await generate(connection(command), options));
    });

  program
    .command('status')
    .description("a job's state, progress and messages")
    .argument('<job_id>')
    .option('--json', 'the whole status as JSON, data included')
    .action(async (jobId: string, options: { json?: boolean }, command: Command) => {
      setExitCode(await status(connection(command), jobId, options));
    });

  program
    .command('list')
    .description('your jobs (those of the API key)')
    .addOption(new Option('--state <state>', 'only jobs in this state').choices(JOB_STATES))
    .option('--limit <n>', 'jobs per page: the newest n (the API answers 100 by default, at most 1000)', positiveInteger('--limit', 1000))
    .option('--all', 'every page, not only the newest')
    .option('--json', 'as JSON')
    .action(async (options: { state?: string; json?: boolean; limit?: number; all?: boolean }, command: Command) => {
      setExitCode(await list(connection(command), options));
    });

  program
    .command('cancel')
    .description('cancel a queued or running job (it keeps what it generated)')
    .argument('<job_id>')
    .action(async (jobId: string, _options: unknown, command: Command) => {
      setExitCode(await cancel(connection(command), jobId));
    });

  program
    .command('stream')
    .description("follow a job's inputs (or, with --messages, its progress messages) until it ends")
    .argument('<job_id>')
    .option('--messages', 'the progress messages instead of the inputs')
    .option('-o, --out <file>', 'write the inputs to this file (default: stdout)')
    .addOption(formatOption())
    .action(async (jobId: string, options: { messages?: boolean; out?: string; format?: Format }, command: Command) => {
      setExitCode(await stream(connection(command), jobId, options));
    });

  program
    .command('datasets')
    .description("your datasets (those of the API key): inputs, jobs, last update")
    .option('--json', 'as JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      setExitCode(await datasets(connection(command), options));
    });
  const dataset = program.command('dataset').description('export or delete a dataset');
  dataset
    .command('export')
    .argument('<name>')
    .option('-o, --out <file>', 'write to this file (default: stdout)')
    .addOption(new Option('--format <format>', 'jsonl (the default), csv or parquet (else from the --out extension)').choices(['jsonl', 'csv', 'parquet']))
    .action(async (name: string, options: { out?: string; format?: string }, command: Command) => {
      setExitCode(await exportDataset(connection(command), name, options));
    });
  dataset
    .command('delete')
    .argument('<name>')
    .action(async (name: string, _options: unknown, command: Command) => {
      setExitCode(await deleteDataset(connection(command), name));
    });

  for (const what of ['items', 'rejected'] as const) {
    program
      .command(what)
      .description(
        what === 'items'
          ? "a job's inputs with their provenance (theme, examples, model, critic, nearest neighbour)"
          : 'the candidates a job did not keep, and why (duplicate of what, which filter, the critic)',
      )
      .argument('<job_id>')
      .option('-o, --out <file>', 'write to this file (default: stdout)')
      .addOption(new Option('--format <format>', 'jsonl (the default) or csv (the default for an --out ending in .csv)').choices(['jsonl', 'csv']))
      .action(async (jobId: string, options: { out?: string; format?: string }, command: Command) => {
        setExitCode(await entries(connection(command), jobId, what, options));
      });
  }

  return program;
}

export async function run(argv: readonly string[]): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = buildProgram((code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync([...argv]);
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage; // commander has said what was wrong
    if (error instanceof CliError) {
      say(error.message);
      return error.exitCode;
    }
    say(`unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return EXIT.failed;
  }
}

/** Exits once stdout and stderr have taken everything written to them. */
async function exit(code: number): Promise<never> {
  await Promise.all([process.stdout, process.stderr].map((s) => new Promise<void>((resolve) => s.write('', () => resolve()))));
  process.exit(code);
}

/** Runs the command line of this process and exits with its code (bin/datagen.js calls it). */
export function main(): void {
  void run(process.argv).then(exit);
}

if (require.main === module) main();
