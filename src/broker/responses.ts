/** Small helpers shared by processors to build answers. */
import { SluiceError } from '../common/errors.js';
import { HeaderFieldError } from '../protocol/headers/fields.js';
import { createResponse, type RemotingCommand } from '../protocol/remoting-command.js';
import { ResponseCode } from '../protocol/response-code.js';
import type { PutStatus } from '../store/types.js';

/** A response with no header fields. */
export function reply(request: RemotingCommand, code: number, remark?: string): RemotingCommand {
  return createResponse(request, code, remark);
}

/** Code 0 with optional header fields and body. */
export function ok(
  request: RemotingCommand,
  extFields: Record<string, string> = {},
  body?: Buffer,
): RemotingCommand {
  return createResponse(request, ResponseCode.SUCCESS, undefined, extFields, body);
}

/** Code 0 with a JSON body. */
export function okJson(request: RemotingCommand, value: unknown): RemotingCommand {
  return createResponse(
    request,
    ResponseCode.SUCCESS,
    undefined,
    {},
    Buffer.from(JSON.stringify(value), 'utf8'),
  );
}

/** Store validation errors (bad message) vs. the store being unable to serve. */
const ILLEGAL_CODES = new Set([
  'MESSAGE_ILLEGAL',
  'MESSAGE_TOO_LARGE',
  'PROPERTIES_TOO_LARGE',
  'TOPIC_ILLEGAL',
  'INVALID_ARGUMENT',
]);

/** Maps an error thrown by the store or a header decoder to a response. */
export function errorResponse(request: RemotingCommand, error: unknown): RemotingCommand {
  if (error instanceof HeaderFieldError) {
    return reply(request, ResponseCode.SYSTEM_ERROR, error.message);
  }
  if (error instanceof SluiceError) {
    if (ILLEGAL_CODES.has(error.code)) {
      return reply(request, ResponseCode.MESSAGE_ILLEGAL, error.message);
    }
    if (error.code === 'DISK_FULL') {
      return reply(
        request,
        ResponseCode.SERVICE_NOT_AVAILABLE,
        `the broker's disk is full, so it refuses new messages: ${error.message}`,
      );
    }
    if (error.code === 'STORE_CLOSED' || error.code === 'SEGMENT_CLOSED') {
      return reply(
        request,
        ResponseCode.SERVICE_NOT_AVAILABLE,
        `the broker's store is shutting down; retry on another broker: ${error.message}`,
      );
    }
    if (error.code === 'PROTOCOL_ERROR') {
      return reply(request, ResponseCode.SYSTEM_ERROR, error.message);
    }
  }
  const message = error instanceof Error ? error.message : String(error);
  return reply(request, ResponseCode.SYSTEM_ERROR, `broker error: ${message}`);
}

/** Response code and remark for a put status other than PUT_OK. */
export function putStatusToCode(status: PutStatus): { code: number; remark?: string } {
  switch (status) {
    case 'PUT_OK':
      return { code: ResponseCode.SUCCESS };
    case 'FLUSH_DISK_TIMEOUT':
      return {
        code: ResponseCode.FLUSH_DISK_TIMEOUT,
        remark: 'stored, but the disk flush did not finish within syncFlushTimeout',
      };
    case 'MESSAGE_ILLEGAL':
      return {
        code: ResponseCode.MESSAGE_ILLEGAL,
        remark: 'the message is illegal: check the topic length and the body size (maxMessageSize)',
      };
    case 'PROPERTIES_SIZE_EXCEEDED':
      return {
        code: ResponseCode.MESSAGE_ILLEGAL,
        remark: 'the message properties exceed 32767 bytes; send fewer or shorter properties',
      };
    case 'DISK_FULL':
      return {
        code: ResponseCode.SERVICE_NOT_AVAILABLE,
        remark:
          "the broker's disk is full (usage above the warning ratio, or no space for the next CommitLog segment), so it refuses new messages; free space or add brokers",
      };
    case 'SERVICE_NOT_AVAILABLE':
      return {
        code: ResponseCode.SERVICE_NOT_AVAILABLE,
        remark: 'the broker store is not writable right now (starting, stopping or read-only)',
      };
  }
}
