import { parseCompose } from '../src/modules/stacks/compose/load';
import { interpolate } from '../src/modules/stacks/compose/interpolate';
import { dropExtensions, validateCompose } from '../src/modules/stacks/compose/validate';
const text = `
x-common: &c
  image: local/busybox:1
services:
  web:
    <<: *c
    x-note: hi
    labels: { x-team: a }
    deploy: { replicas: 1.5, x-y: 1, mode: "\${MODE:-replicated}" }
    networks: [1]
    ports: [{ target: abc }, "80", {published: 1}]
    healthcheck: { test: 5 }
    foo: 1
  db:
    image: x
    deploy: { replicas: "\${N}" }
    command: { a: 1 }
networks:
  n: { external: "yes", x-z: 1 }
`;
try {
  const w: string[] = [];
  const doc = dropExtensions(interpolate(parseCompose(text), (n) => ({ N: 'three' } as any)[n], w));
  console.log(JSON.stringify(doc), w);
  validateCompose(doc);
} catch (e: any) { console.log(e.message); console.log(e.extensions.violations); }
