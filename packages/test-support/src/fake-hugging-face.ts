import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Hugging Face as node-llama-cpp asks it for `hf:<user>/<repo>:<quant>`: the
 * quant's manifest (`/v2/<user>/<repo>/manifests/<quant>`), then the file
 * (`/<user>/<repo>/resolve/main/<file>`, ranges included). Point a service at
 * it with HF_ENDPOINT. Unknown models and quants are 404s, as there.
 */
export class FakeHuggingFace {
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  /** `models`: `<user>/<repo>:<quant>` → the file's bytes; `port` 0 picks a free one. */
  static async start(models: Record<string, Buffer>, port = 0): Promise<FakeHuggingFace> {
    const files = new Map<string, Buffer>();
    const manifests = new Map<string, string>();
    for (const [uri, bytes] of Object.entries(models)) {
      const [repo = '', quant = ''] = uri.split(':');
      const file = `${repo.split('/')[1]}-${quant}.gguf`;
      manifests.set(`/v2/${repo}/manifests/${quant}`, file);
      files.set(`/${repo}/resolve/main/${file}`, bytes);
    }
    const server = createServer((request, response) => {
      const { pathname } = new URL(request.url ?? '/', 'http://x');
      const manifest = manifests.get(pathname);
      if (manifest) {
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify({ ggufFile: { rfilename: manifest } }));
        return;
      }
      const bytes = files.get(pathname);
      if (!bytes) {
        response.writeHead(404).end();
        return;
      }
      const range = /bytes=(\d+)-(\d*)/.exec(request.headers.range ?? '');
      const start = range ? Number(range[1]) : 0;
      const end = range?.[2] ? Number(range[2]) : bytes.length - 1;
      response.writeHead(range ? 206 : 200, {
        'accept-ranges': 'bytes',
        'content-length': String(end - start + 1),
        ...(range ? { 'content-range': `bytes ${start}-${end}/${bytes.length}` } : {}),
      });
      response.end(request.method === 'HEAD' ? undefined : bytes.subarray(start, end + 1));
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    const bound = (server.address() as AddressInfo).port;
    return new FakeHuggingFace(server, `http://127.0.0.1:${bound}/`);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** A loopback port nothing listens on (yet): where the network is "down". */
export async function unusedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}
