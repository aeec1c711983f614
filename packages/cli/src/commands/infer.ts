import { readFile } from 'node:fs/promises';
import {
  DATATYPES,
  type Datatype,
  type InferInput,
  type InferOutput,
  type InferRequest,
  type InferResponse,
} from '@quiver/sdk';
import type { Command } from 'commander';
import { type Context, listOption, usage } from '../context.js';
import { type Column, table } from '../output.js';
import { parseVersion } from '../refs.js';

const INPUT = new RegExp(`^(.+?):(${DATATYPES.join('|')}):\\[([^\\]]*)\\]:(.*)$`, 'is');
const INTEGER = /^-?\d+$/;

/** Table cells show at most this many elements; `-o json` has them all. */
const MAX_CELLS = 64;

/**
 * `name:DATATYPE:[shape]:values`, values comma-separated or a JSON array (nested or flat):
 * `input:FP32:[2,4]:1,2,3,4,5,6,7,8`, `flags:BOOL:[2]:true,false`, `text:BYTES:[1]:["a, b"]`.
 */
export function parseInput(text: string, field = '--input'): InferInput {
  const m = INPUT.exec(text.trim());
  if (!m) {
    throw usage(
      field,
      `${field}: expected name:DATATYPE:[shape]:values, e.g. input:FP32:[2,4]:1,2,3,4,5,6,7,8; got '${text}'.`,
    );
  }
  const [, name, type, shapeText, valuesText] = m as unknown as [string, string, string, string, string];
  const datatype = type.toUpperCase() as Datatype;
  const shape = shapeText.trim() === '' ? [] : shapeText.split(',').map((d) => d.trim());
  if (!shape.every((d) => /^\d+$/.test(d))) {
    throw usage(field, `${field}: the shape of '${name}' lists sizes, e.g. [2,4]; got [${shapeText}].`);
  }
  const dims = shape.map(Number);
  const raw = rawValues(valuesText.trim(), name, field);
  const count = dims.reduce((a, b) => a * b, 1);
  if (raw.length !== count) {
    throw usage(
      field,
      `${field}: '${name}' has ${raw.length} values; shape [${dims.join(',')}] holds ${count}.`,
    );
  }
  return { name, datatype, shape: dims, data: convert(raw, datatype, name, field) };
}

function rawValues(text: string, name: string, field: string): unknown[] {
  if (text.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw usage(field, `${field}: the values of '${name}' are not a JSON array: ${(err as Error).message}`);
    }
    return (parsed as unknown[]).flat(Number.POSITIVE_INFINITY);
  }
  return text === '' ? [] : text.split(',').map((v) => v.trim());
}

function convert(values: unknown[], datatype: Datatype, name: string, field: string): InferInput['data'] {
  const wrong = (v: unknown, want: string) =>
    usage(field, `${field}: '${name}' is ${datatype}, which takes ${want}; got ${JSON.stringify(v)}.`);
  switch (datatype) {
    case 'BYTES':
      return values.map((v) => String(v));
    case 'BOOL':
      return values.map((v) => {
        if (v === true || v === 'true' || v === '1' || v === 1) return true;
        if (v === false || v === 'false' || v === '0' || v === 0) return false;
        throw wrong(v, 'true or false');
      });
    case 'INT64':
    case 'UINT64':
      return values.map((v) => {
        const s = String(v);
        if (!INTEGER.test(s)) throw wrong(v, 'whole numbers');
        return BigInt(s);
      });
    default:
      return values.map((v) => {
        const n = typeof v === 'number' ? v : Number(v);
        if (v === '' || !Number.isFinite(n)) throw wrong(v, 'numbers');
        if (!datatype.startsWith('FP') && !Number.isInteger(n)) throw wrong(v, 'whole numbers');
        return n;
      });
  }
}

/** `--json request.json` (or inline `{…}`): an Open Inference Protocol request body. */
async function readRequest(
  value: string,
): Promise<Pick<InferRequest, 'inputs' | 'outputs' | 'parameters' | 'id'>> {
  let text = value;
  if (!value.trimStart().startsWith('{')) {
    try {
      text = await readFile(value, 'utf8');
    } catch (err) {
      throw usage('--json', `--json: cannot read ${value}: ${(err as Error).message}`);
    }
  }
  let body: { inputs?: unknown; outputs?: unknown; parameters?: unknown; id?: unknown };
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw usage('--json', `--json is not valid JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(body?.inputs)) {
    throw usage(
      '--json',
      '--json: expected an inference request, {"inputs": [{"name", "datatype", "shape", "data"}]}.',
    );
  }
  const inputs = (
    body.inputs as { name?: unknown; datatype?: unknown; shape?: unknown; data?: unknown }[]
  ).map((t, i) => {
    if (typeof t?.name !== 'string' || !Array.isArray(t.shape) || !Array.isArray(t.data)) {
      throw usage(`--json`, `--json: inputs[${i}] needs name, datatype, shape and data.`);
    }
    return {
      name: t.name,
      datatype: String(t.datatype).toUpperCase() as Datatype,
      shape: t.shape as number[],
      data: (t.data as unknown[]).flat(Number.POSITIVE_INFINITY) as number[],
    };
  });
  const outputs = Array.isArray(body.outputs)
    ? (body.outputs as unknown[]).map((o) =>
        typeof o === 'string' ? o : String((o as { name?: unknown })?.name),
      )
    : undefined;
  return {
    inputs,
    outputs,
    parameters: body.parameters as InferRequest['parameters'],
    id: typeof body.id === 'string' ? body.id : undefined,
  };
}

/** One element as a table shows it: float32 to 7 significant digits, BYTES quoted. */
function cell(output: InferOutput, value: unknown): string {
  if (output.datatype === 'FP32' || output.datatype === 'FP16')
    return String(Number((value as number).toPrecision(7)));
  if (output.datatype === 'BYTES') return JSON.stringify(value);
  return String(value);
}

/** Row-major data nested by shape: `[[1, 2, 3], [4, 5, 6]]`, cut after MAX_CELLS elements. */
export function nested(output: InferOutput): string {
  const values = Array.from(output.data as ArrayLike<unknown>);
  const shown = values.slice(0, MAX_CELLS).map((v) => cell(output, v));
  const dims = output.shape.length > 1 ? output.shape.slice(1) : [];
  const group = (items: string[], depth: number): string => {
    if (depth >= dims.length) return `[${items.join(', ')}]`;
    const size = dims.slice(depth).reduce((a, b) => a * b, 1);
    const parts: string[] = [];
    for (let i = 0; i < items.length; i += size) parts.push(group(items.slice(i, i + size), depth + 1));
    return `[${parts.join(', ')}]`;
  };
  const text = output.shape.length === 0 ? (shown[0] ?? '') : group(shown, 0);
  return values.length > MAX_CELLS ? `${text} … (${values.length} values; -o json shows all)` : text;
}

/** The answer as JSON: typed arrays as arrays, 64-bit integers as numbers when safe, else strings. */
export function responseJson(answer: InferResponse): unknown {
  return {
    ...answer,
    outputs: answer.outputs.map((o) => ({
      ...o,
      data: Array.from(o.data as ArrayLike<unknown>, (v) =>
        typeof v === 'bigint'
          ? v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER)
            ? Number(v)
            : String(v)
          : v,
      ),
    })),
  };
}

const COLUMNS: Column<InferOutput>[] = [
  ['OUTPUT', (o) => o.name],
  ['DATATYPE', (o) => o.datatype],
  ['SHAPE', (o) => `[${o.shape.join(',')}]`],
  ['DATA', nested],
];

export function inferCommand(program: Command, context: (cmd: Command) => Context): void {
  program
    .command('infer')
    .description('Run a deployment on input tensors (Open Inference Protocol) and print its outputs')
    .argument('<deployment>', 'e.g. fraud-prod')
    .option(
      '--input <name:DATATYPE:[shape]:values>',
      'an input tensor, e.g. input:FP32:[2,4]:1,2,3,4,5,6,7,8 (repeatable)',
      listOption,
    )
    .option('--json <file|json>', 'the whole request as Open Inference Protocol JSON, from a file or inline')
    .option(
      '--version <version>',
      'ask this version of the deployment, e.g. 2 or champion (default: the split picks)',
    )
    .option('--output-name <name>', 'return only this output (repeatable; default all)', listOption)
    .option('--id <id>', 'a request id, echoed in the answer')
    .addHelpText(
      'after',
      `
Inputs are name:DATATYPE:[shape]:values with values row-major, comma-separated or as a JSON
array: input:FP32:[2,4]:1,2,3,4,5,6,7,8, mask:BOOL:[2]:true,false, text:BYTES:[1]:["a, b"].
Datatypes: ${DATATYPES.join(', ')}. The table shows each output nested by its shape; the
version that answered is noted on stderr (with a traffic split it varies); -o json prints
the whole answer.

Examples:
  $ quiver infer fraud-prod --input 'input:FP32:[2,4]:1,2,3,4,5,6,7,8'
  $ quiver infer adder --input 'x:INT64:[1,2]:1,2' --input 'y:INT64:[1,2]:3,4' -o json
  $ quiver infer fraud-prod --json request.json --version 2
  $ quiver --grpc 127.0.0.1:9090 infer fraud-prod --input 'input:FP32:[1,4]:1,2,3,4'   # over gRPC`,
    )
    .action(
      async (
        deployment: string,
        opts: { input?: string[]; json?: string; version?: string; outputName?: string[]; id?: string },
        cmd: Command,
      ) => {
        const ctx = context(cmd);
        if (!opts.input === !opts.json) {
          throw usage('--input', 'Give the inputs with --input (repeatable) or --json, one of the two.');
        }
        const request = opts.json
          ? await readRequest(opts.json)
          : { inputs: opts.input!.map((text, i) => parseInput(text, `--input[${i}]`)) };
        const answer = await ctx.client.inference.infer({
          ...request,
          deployment: deployment.replace(/^deployments\//, ''),
          version: opts.version === undefined ? undefined : parseVersion(opts.version, '--version'),
          outputs: opts.outputName ?? request.outputs,
          id: opts.id ?? request.id,
        });
        if (ctx.printer.format === 'json') {
          ctx.printer.json(responseJson(answer));
          return;
        }
        ctx.printer.note(
          `${answer.model_name} version ${answer.model_version} answered${answer.id ? ` (id ${answer.id})` : ''}${ctx.grpc ? ' over gRPC' : ''}.`,
        );
        ctx.printer.message(table(COLUMNS, answer.outputs).trimEnd());
      },
    );
}
