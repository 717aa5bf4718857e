/**
 * The response envelope. It carries every field any GSE client reads (docs/gse-contract.md §2.2):
 * `result` (bk-monitor-worker fails without it), `code`, `message`, `data`, and `request_id`
 * (ESB), so one shape satisfies callers of both front doors.
 */
export interface Envelope<T> {
  readonly result: boolean;
  readonly code: number;
  readonly code_name?: string;
  readonly message: string;
  readonly data: T;
  readonly request_id: string;
}

export const ok = <T>(data: T, requestId: string): Envelope<T> => ({
  result: true,
  code: 0,
  message: "",
  data,
  request_id: requestId,
});

export const failure = (code: number, codeName: string, message: string, data: unknown, requestId: string): Envelope<unknown> => ({
  result: false,
  code,
  code_name: codeName,
  message,
  data,
  request_id: requestId,
});
