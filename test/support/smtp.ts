import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** A self-signed certificate for 127.0.0.1 (openssl), so STARTTLS is real; `certFile` is what the hub trusts. */
function selfSignedCert() {
  const dir = mkdtempSync(join(tmpdir(), 'camhub-smtp-'));
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: 'ignore' },
    );
  } catch (err) {
    throw new Error(
      `openssl is needed for the SMTP test server's certificate (apt-get install openssl): ${(err as Error).message}`,
    );
  }
  return { key: readFileSync(key), cert: readFileSync(cert), certFile: cert, dir };
}

/**
 * A real SMTP server on loopback (smtp-server) that requires STARTTLS and a login, and keeps every message parsed
 * (mailparser). `failNext(code)` answers the next DATA with that reply code (4xx temporary, 5xx permanent).
 */
export async function startSmtpServer(opts: { username: string; password: string }) {
  const tls = selfSignedCert();
  const messages: ParsedMail[] = [];
  const failures: number[] = [];
  const server = new SMTPServer({
    key: tls.key,
    cert: tls.cert,
    authMethods: ['PLAIN', 'LOGIN'],
    // Refuse AUTH before STARTTLS, as real submission servers do.
    allowInsecureAuth: false,
    logger: false,
    onAuth(auth, _session, cb) {
      if (auth.username === opts.username && auth.password === opts.password) return cb(null, { user: auth.username });
      return cb(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
    },
    onData(stream, _session, cb) {
      const code = failures.shift();
      if (code) {
        stream.resume();
        stream.on('end', () =>
          cb(Object.assign(new Error(code >= 500 ? 'Message rejected' : 'Try again later'), { responseCode: code })),
        );
        return;
      }
      simpleParser(stream)
        .then((m) => {
          messages.push(m);
          cb();
        })
        .catch((err: Error) => cb(err));
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    caFile: tls.certFile,
    messages,
    failNext(code: number) {
      failures.push(code);
    },
    close: async () => {
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(tls.dir, { recursive: true, force: true });
    },
  };
}
export type SmtpTestServer = Awaited<ReturnType<typeof startSmtpServer>>;
