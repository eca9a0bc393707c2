import fs from 'node:fs';
import path from 'node:path';
import { buildSchema, getVariableValues, GraphQLSchema, Kind, parse, Source, specifiedRules, validate, type DefinitionNode, type DocumentNode, type OperationDefinitionNode } from 'graphql';

/**
 * Every GraphQL document the README shows is checked against the committed schema, as a
 * newcomer would paste it:
 *   - each ```graphql block; a block may hold several operations (each is validated on its own,
 *     with the block's fragments) and placeholders such as "…" or "<host1>" as string literals;
 *   - the `query` of every JSON body sent with `curl -d '…'` in ```sh blocks, with its `variables`;
 *   - the `query: '…'` documents of the ```js examples.
 * A block whose first line is `# snippet: partial` (or `// snippet: partial`) is deliberately
 * incomplete and skipped.
 */
const root = path.resolve(__dirname, '..', '..');
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
const schema = buildSchema(fs.readFileSync(path.join(root, 'schema', 'schema.graphql'), 'utf8'));

interface Snippet {
  name: string;
  document: string;
  variables?: Record<string, unknown>;
}

const PARTIAL = /^\s*(#|\/\/)\s*snippet:\s*partial\b/;

function fencedBlocks(markdown: string): { lang: string; body: string; line: number }[] {
  const blocks: { lang: string; body: string; line: number }[] = [];
  const fence = /^```([\w-]*)[^\n]*\n([\s\S]*?)^```[ \t]*$/gm;
  for (let m = fence.exec(markdown); m; m = fence.exec(markdown)) {
    blocks.push({ lang: m[1], body: m[2], line: markdown.slice(0, m.index).split('\n').length });
  }
  return blocks;
}

function snippets(markdown: string): Snippet[] {
  const out: Snippet[] = [];
  for (const { lang, body, line } of fencedBlocks(markdown)) {
    if (PARTIAL.test(body)) continue;
    const at = `README.md:${line}`;
    if (lang === 'graphql') {
      out.push({ name: `${at} graphql block`, document: body });
    } else if (lang === 'sh') {
      // curl -d '<json>': a shell single-quoted JSON body with a GraphQL query
      [...body.matchAll(/-d\s+'([^']*)'/g)].forEach((m, i) => {
        const payload = JSON.parse(m[1]) as { query: string; variables?: Record<string, unknown> };
        out.push({ name: `${at} curl body ${i + 1}`, document: payload.query, variables: payload.variables ?? {} });
      });
    } else if (lang === 'js') {
      [...body.matchAll(/query:\s*(['`])([\s\S]*?)\1/g)].forEach((m, i) => {
        out.push({ name: `${at} js query ${i + 1}`, document: m[2] });
      });
    }
  }
  return out;
}

/** Each operation of a document with the document's fragments: a block may list several anonymous operations. */
function operations(doc: DocumentNode): { op: OperationDefinitionNode; doc: DocumentNode }[] {
  const fragments: DefinitionNode[] = doc.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION);
  return doc.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION).map((op) => ({ op, doc: { ...doc, definitions: [op, ...fragments] } }));
}

function problems(snippet: Snippet, against: GraphQLSchema): string[] {
  let doc: DocumentNode;
  try {
    doc = parse(new Source(snippet.document, snippet.name));
  } catch (err) {
    return [String((err as Error).message)];
  }
  const ops = operations(doc);
  if (ops.length === 0) return ['no operation'];
  const errors: string[] = [];
  for (const { op, doc: single } of ops) {
    errors.push(...validate(against, single, specifiedRules).map((e) => e.message));
    if (snippet.variables) {
      const coerced = getVariableValues(against, op.variableDefinitions ?? [], snippet.variables);
      errors.push(...(coerced.errors ?? []).map((e) => e.message));
    }
  }
  return errors;
}

describe('README GraphQL snippets', () => {
  const all = snippets(readme);

  it('finds the graphql blocks, the curl bodies and the Node client documents', () => {
    expect(all.filter((s) => s.name.includes('graphql block')).length).toBeGreaterThanOrEqual(8);
    expect(all.filter((s) => s.name.includes('curl body')).length).toBeGreaterThanOrEqual(4);
    expect(all.filter((s) => s.name.includes('js query')).length).toBeGreaterThanOrEqual(1);
  });

  it.each(all.map((s) => [s.name, s] as const))('%s is valid against schema/schema.graphql', (_name, snippet) => {
    expect(problems(snippet, schema)).toEqual([]);
  });

  it('reports a field the schema lacks, and skips only blocks marked partial', () => {
    const bad = '```graphql\nsubscription { dockerEvents(hostId: "h") { action actorName } }\n```\n';
    const [s] = snippets(bad);
    expect(problems(s, schema)).toEqual([expect.stringContaining('Cannot query field "actorName"')]);
    expect(snippets('```graphql\n# snippet: partial\n{ dockerHost(id: "x") { nope } }\n```\n')).toEqual([]);
    const curl = snippets(`\`\`\`sh\ncurl -d '{"query":"mutation($id: ID!) { stopContainer(input: { id: $id }) { activity { status } } }","variables":{}}'\n\`\`\`\n`);
    expect(problems(curl[0], schema)).toEqual([expect.stringContaining('"$id" of required type "ID!" was not provided')]);
  });
});
