// A man in the middle for response tests: a real HTTP/2 proxy on loopback (node:http2) that
// forwards each gRPC call to the real server and hands its response to a plan on the way back.
// It parses the response DATA into gRPC length-prefixed messages, so a plan can flip a byte,
// drop, reorder, duplicate or inject messages, cut the stream short (keeping the genuine
// trailers, forging others, or resetting the stream), rewrite grpc-status, grpc-message and
// any other trailer, or answer with a response recorded from an earlier call. Requests pass
// through unchanged. Every call's genuine response is recorded (`calls`).
//
//   const proxy = await startMitmProxy(h.target);
//   proxy.plan = { message: (m) => [flip(m.bytes, 3)] };
//   const c = h.client(cred, { target: proxy.target, requireSignedResponses: true });
import * as http2 from 'node:http2';
import { AddressInfo } from 'node:net';

/** Header or trailer fields as node:http2 gives them (names lowercase). */
export type Fields = Record<string, string | string[] | undefined>;

/** One response message, as the server sent it. */
export interface ResponseMessage {
  /** The message bytes (the gRPC frame's payload, without its 5-byte prefix). */
  readonly bytes: Buffer;
  /** 0-based position among the server's response messages on this call. */
  readonly index: number;
}

/** A call's genuine response, as the server sent it. */
export interface RecordedResponse {
  readonly path: string;
  /** The response headers; for a trailers-only response, the one header block (status included). */
  headers: Fields;
  readonly messages: Buffer[];
  /** The trailers, or undefined for a trailers-only response. */
  trailers: Fields | undefined;
}

/** What to send at the end of the call, in place of the server's end. */
export interface Ending {
  /** Messages to send before the trailers. */
  readonly messages?: Buffer[];
  /** The trailers to send (a copy of the server's by default; for a trailers-only response, its status fields). */
  readonly trailers?: Fields;
  /** Reset the stream instead of sending trailers, with this HTTP/2 error code. */
  readonly reset?: number;
}

export interface ResponsePlan {
  /** The response headers (not of a trailers-only response), before they are forwarded: the fields to send instead. */
  headers?(fields: Fields, call: RecordedResponse): Fields;
  /** Each response message as it arrives: the messages to forward in its place (`[]` drops it). */
  message?(m: ResponseMessage, call: RecordedResponse): Buffer[];
  /**
   * The call's end, once the server's end arrived. `trailers` is a mutable copy of the
   * server's trailers (or of a trailers-only response's status fields). Return what to send.
   */
  end?(trailers: Fields, call: RecordedResponse): Ending | void;
}

export interface MitmProxy {
  /** `127.0.0.1:port`: point a client here. */
  readonly target: string;
  /** Every call's genuine response, in order of arrival. */
  readonly calls: RecordedResponse[];
  /** The plan for the calls from now on; undefined forwards everything unchanged. */
  plan: ResponsePlan | undefined;
  close(): Promise<void>;
}

const { HTTP2_HEADER_STATUS, HTTP2_HEADER_CONTENT_TYPE, NGHTTP2_CANCEL } = http2.constants;

/** A gRPC length-prefixed message: flag 0 (uncompressed), u32be length, payload. */
export function grpcFrame(bytes: Buffer): Buffer {
  const prefix = Buffer.allocUnsafe(5);
  prefix[0] = 0;
  prefix.writeUInt32BE(bytes.length, 1);
  return Buffer.concat([prefix, bytes]);
}

/** A recorded call's genuine end: its trailers, or a trailers-only response's status fields. */
export function endFields(call: RecordedResponse): Fields {
  const fields = plain(call.trailers ?? call.headers);
  delete fields[HTTP2_HEADER_CONTENT_TYPE];
  return fields;
}

/** Fields minus the pseudo-headers node:http2 does not let a response repeat. */
function plain(fields: Fields): Fields {
  const out: Fields = {};
  for (const [k, v] of Object.entries(fields)) if (!k.startsWith(':') && v !== undefined) out[k] = v;
  return out;
}

export async function startMitmProxy(upstreamTarget: string): Promise<MitmProxy> {
  const upstream = http2.connect(`http://${upstreamTarget}`);
  upstream.on('error', () => undefined);
  const calls: RecordedResponse[] = [];
  const server = http2.createServer();
  const proxy: MitmProxy = {
    target: '',
    calls,
    plan: undefined,
    close: () =>
      new Promise<void>((resolve) => {
        upstream.close();
        server.close(() => resolve());
        // Sessions the clients keep open would hold server.close forever.
        for (const s of sessions) s.destroy();
      }),
  };
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  server.on('stream', (down, requestHeaders) => forward(down, requestHeaders, upstream, proxy.plan, calls));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  (proxy as { target: string }).target = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}

function forward(
  down: http2.ServerHttp2Stream,
  requestHeaders: http2.IncomingHttpHeaders,
  upstream: http2.ClientHttp2Session,
  plan: ResponsePlan | undefined,
  calls: RecordedResponse[],
): void {
  const headers: http2.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(requestHeaders)) if (k === ':path' || k === ':method' || !k.startsWith(':')) headers[k] = v;
  const up = upstream.request(headers);
  const call: RecordedResponse = { path: String(requestHeaders[':path']), headers: {}, messages: [], trailers: undefined };
  calls.push(call);
  down.pipe(up);
  // A client's cancellation reaches the server, and a server's reset the client.
  const cancelUp = () => {
    if (!up.closed) up.close(down.rstCode || NGHTTP2_CANCEL);
    // A stream closed while its write side was ending can linger half-open; it is of no more use.
    setImmediate(() => up.destroy());
  };
  down.on('close', cancelUp);
  down.on('aborted', cancelUp);
  if (down.closed || down.destroyed) cancelUp(); // reset before the proxy got to it
  down.on('error', () => undefined);
  up.on('error', () => undefined);

  let responded = false;
  let trailersOnly = false;
  let pending = Buffer.alloc(0);
  let index = 0;
  let trailersToSend: Fields = {};
  const respond = () => {
    if (responded || down.destroyed) return;
    responded = true;
    // A trailers-only response turned into a full one keeps its status fields for the trailers.
    const fields = trailersOnly ? {} : plain(call.headers);
    down.respond(
      { ...(plan?.headers ? plan.headers(fields, call) : fields), [HTTP2_HEADER_STATUS]: 200, [HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc+proto' },
      { waitForTrailers: true },
    );
    down.on('wantTrailers', () => down.sendTrailers(trailersToSend as http2.OutgoingHttpHeaders));
  };
  const send = (bytes: Buffer) => {
    respond();
    if (!down.destroyed) down.write(grpcFrame(bytes));
  };

  up.on('response', (h, flags) => {
    call.headers = { ...h };
    if (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) trailersOnly = true;
    else respond();
  });
  up.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 5) {
      const length = pending.readUInt32BE(1);
      if (pending.length < 5 + length) break;
      const bytes = Buffer.from(pending.subarray(5, 5 + length));
      pending = pending.subarray(5 + length);
      call.messages.push(bytes);
      const m = { bytes, index: index++ };
      for (const out of plan?.message ? plan.message(m, call) : [bytes]) send(out);
    }
  });
  up.on('trailers', (t) => {
    call.trailers = { ...t };
  });
  up.on('end', () => {
    if (down.destroyed) return;
    // A trailers-only response's status fields are its header block's.
    const genuine = trailersOnly ? endFields(call) : plain(call.trailers ?? {});
    const ending = plan?.end?.({ ...genuine }, call) ?? {};
    const trailers = ending.trailers ?? genuine;
    if (ending.messages && ending.messages.length > 0) for (const m of ending.messages) send(m);
    if (ending.reset !== undefined) {
      respond();
      down.close(ending.reset);
      return;
    }
    if (trailersOnly && !responded) {
      // Still trailers-only: the status fields in the one header block.
      down.respond({ ...trailers, [HTTP2_HEADER_STATUS]: 200, [HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc+proto' } as http2.OutgoingHttpHeaders, {
        endStream: true,
      });
      return;
    }
    trailersToSend = trailers;
    respond();
    down.end();
  });
  up.on('close', () => {
    // The server reset the stream: so does the proxy.
    if (!down.destroyed && !down.writableEnded && up.rstCode !== undefined && up.rstCode !== 0) down.close(up.rstCode);
  });
}
