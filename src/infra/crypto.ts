import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../kernel/config';

/**
 * AES-256-GCM envelope for secrets at rest (TLS keys and the like). The key id is stored
 * with every value so keys can be rotated: the current key encrypts, older keys
 * (FLEETGRAPH_ENCRYPTION_OLD_KEYS="id:base64,…") still decrypt.
 */
export class SecretBox {
  constructor(
    private readonly currentId: string,
    private readonly keys: Map<string, Buffer>,
  ) {
    if (!keys.has(currentId)) throw new Error(`encryption key ${currentId} is not configured`);
  }

  get keyId(): string {
    return this.currentId;
  }

  seal(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.currentId)!, iv);
    cipher.setAAD(Buffer.from(this.currentId));
    const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', this.currentId, iv.toString('base64'), cipher.getAuthTag().toString('base64'), data.toString('base64')].join('.');
  }

  open(sealed: string): string {
    const [version, kid, iv, tag, data] = sealed.split('.');
    if (version !== 'v1') throw new Error('unknown secret format');
    const key = this.keys.get(kid);
    if (!key) throw new Error(`encryption key ${kid} is not configured (needed to decrypt)`);
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
    decipher.setAAD(Buffer.from(kid));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString('utf8');
  }

  /** Key id a sealed value was encrypted with (for rotation reports). */
  static keyIdOf(sealed: string): string | undefined {
    return sealed.split('.')[1];
  }
}

export function parseKey(value: string, name: string): Buffer {
  const trimmed = value.trim();
  const key = /^[0-9a-f]{64}$/i.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
  if (key.length !== 32) throw new Error(`${name} must be 32 bytes (base64 or hex)`);
  return key;
}

/**
 * Builds the SecretBox from configuration. Outside production, with no key configured, a
 * random key is created once in <dataDir>/encryption.key so `npm start` works out of the box.
 */
export function createSecretBox(config: Config): SecretBox {
  const keys = new Map<string, Buffer>();
  for (const entry of (config.encryption.oldKeys ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const idx = entry.indexOf(':');
    if (idx <= 0) throw new Error('FLEETGRAPH_ENCRYPTION_OLD_KEYS entries must be "id:key"');
    keys.set(entry.slice(0, idx), parseKey(entry.slice(idx + 1), 'FLEETGRAPH_ENCRYPTION_OLD_KEYS'));
  }
  let current = config.encryption.key;
  if (!current) {
    if (config.production) throw new Error('FLEETGRAPH_ENCRYPTION_KEY must be set in production');
    const file = path.join(config.dataDir, 'encryption.key');
    if (!fs.existsSync(file)) {
      fs.mkdirSync(config.dataDir, { recursive: true });
      fs.writeFileSync(file, randomBytes(32).toString('base64'), { mode: 0o600 });
    }
    current = fs.readFileSync(file, 'utf8');
  }
  keys.set(config.encryption.keyId, parseKey(current, 'FLEETGRAPH_ENCRYPTION_KEY'));
  return new SecretBox(config.encryption.keyId, keys);
}
