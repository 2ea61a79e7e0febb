// Listen failures worded as the Collector words them, so operators recognise them:
// "listen tcp 127.0.0.1:4317: bind: address already in use".

const REASONS: Record<string, string> = {
  EADDRINUSE: 'bind: address already in use',
  EACCES: 'bind: permission denied',
  EADDRNOTAVAIL: 'bind: cannot assign requested address',
  ENOTFOUND: 'no such host',
  EAI_AGAIN: 'temporary failure in name resolution',
};

export function listenError(endpoint: string, err: Error): Error {
  const code = (err as NodeJS.ErrnoException).code;
  // grpc-js folds the socket error into its message ("... [listen EADDRINUSE: ...]").
  const key = code && code in REASONS ? code : Object.keys(REASONS).find((k) => err.message.includes(k));
  const reason = key ? REASONS[key]! : err.message;
  return new Error(`listen tcp ${endpoint}: ${reason}`, { cause: err });
}
