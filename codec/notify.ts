/**
 * Notify (1003) bodies as {@link SystemNotification} values, both ways: the
 * client decodes what OpenD pushes, the simulator encodes what it pushes.
 *
 * @example
 * ```ts
 * import {
 *   decodeNotification,
 *   encodeNotification,
 *   gtwEventNotification,
 * } from "./notify.ts";
 * const body = encodeNotification(gtwEventNotification(11, "need SMS code"));
 * const n = decodeNotification(body);
 * if (n.kind === "gtwEvent") console.log(n.eventName); // "NeedPhoneVerifyCode"
 * ```
 * @module
 */
import {
  fromTyped,
  type JsonObject,
  parseJsonMapping,
  schemaOf,
  show,
  toTyped,
} from "./_schema.ts";
import { CodecError, CodecErrorCode } from "./codec_error.ts";
import { readProtobuf } from "./_proto_reader.ts";
import {
  GtwEventType,
  nameOf,
  NotifyType,
  ProgramStatusType,
  ProtoFmt,
  ProtoId,
  RetType,
} from "./definitions.ts";
import {
  encodeResponse,
  type NotifyQotRight,
  type NotifyS2C,
  toJsonMapping,
} from "./messages.ts";
import type {
  ApiLevelNotification,
  ApiQuotaNotification,
  ConnStatusNotification,
  GtwEventNotification,
  ProgramStatusNotification,
  QotRightNotification,
  SystemNotification,
  UsedQuotaNotification,
} from "./system_notification.ts";

/** A notification made loose for encoding: `type` and the names optional. */
export type LooseNotification<T> = T extends unknown ?
    & Omit<T, "type" | "typeName" | "eventName" | "statusName">
    & {
      /** The NotifyType to send; the kind's own type when absent. */
      readonly type?: number;
      /** Ignored when encoding: numbers rule. */
      readonly typeName?: string;
      /** Ignored when encoding. */
      readonly eventName?: string;
      /** Ignored when encoding. */
      readonly statusName?: string;
    }
  : never;

/**
 * What {@link encodeNotification} accepts: a {@link SystemNotification}, or
 * the same without `type` and the names. A `type` that differs from the
 * kind's own is sent as given (to test how a peer takes odd pushes). For kind
 * "unknown", `s2c` is a Notify.S2C in protobuf's JSON mapping.
 */
export type NotificationInput = LooseNotification<SystemNotification>;

const KIND_TYPES = {
  gtwEvent: NotifyType.GtwEvent,
  programStatus: NotifyType.ProgramStatus,
  connStatus: NotifyType.ConnStatus,
  qotRight: NotifyType.QotRight,
  apiLevel: NotifyType.APILevel,
  apiQuota: NotifyType.APIQuota,
  usedQuota: NotifyType.UsedQuota,
} as const;

const S2C_SCHEMA = "Notify.S2C";

function base<K extends string>(kind: K, type: number) {
  return { kind, type, typeName: nameOf(NotifyType, type) };
}

/**
 * The notification a Notify.S2C carries. A known type whose payload is
 * missing, NotifyType 0 and types this build does not know become kind
 * "unknown", holding the whole S2C in protobuf's JSON mapping. Throws
 * CodecError INVALID_MESSAGE when `s2c` is not a valid Notify.S2C.
 *
 * @example
 * ```ts
 * import { toSystemNotification } from "./notify.ts";
 * toSystemNotification({ type: 3, connectStatus: { qotLogined: true, trdLogined: false } });
 * // { kind: "connStatus", type: 3, typeName: "ConnStatus", qotLogined: true, trdLogined: false }
 * toSystemNotification({ type: 42 }).kind; // "unknown"
 * ```
 */
export function toSystemNotification(s2c: NotifyS2C): SystemNotification {
  const schema = schemaOf(S2C_SCHEMA);
  const canonical = fromTyped(schema, s2c);
  return fromS2C(toTyped(schema, canonical) as unknown as NotifyS2C, canonical);
}

// Object literals throughout: a spread followed by more properties takes a
// slow path in V8, and this runs for every push.
function fromS2C(
  s2c: NotifyS2C,
  canonical?: JsonObject,
): SystemNotification {
  const type = s2c.type;
  switch (type) {
    case NotifyType.GtwEvent: {
      const event = s2c.event;
      if (event) {
        return {
          kind: "gtwEvent",
          type,
          typeName: "GtwEvent",
          eventType: event.eventType,
          eventName: nameOf(GtwEventType, event.eventType),
          desc: event.desc,
        };
      }
      break;
    }
    case NotifyType.ProgramStatus:
      if (s2c.programStatus) {
        const { type: status, strExtDesc } = s2c.programStatus.programStatus;
        const statusName = nameOf(ProgramStatusType, status);
        return strExtDesc === undefined
          ? {
            kind: "programStatus",
            type,
            typeName: "ProgramStatus",
            status,
            statusName,
          }
          : {
            kind: "programStatus",
            type,
            typeName: "ProgramStatus",
            status,
            statusName,
            strExtDesc,
          };
      }
      break;
    case NotifyType.ConnStatus:
      if (s2c.connectStatus) {
        return {
          kind: "connStatus",
          type,
          typeName: "ConnStatus",
          qotLogined: s2c.connectStatus.qotLogined,
          trdLogined: s2c.connectStatus.trdLogined,
        };
      }
      break;
    case NotifyType.QotRight:
      if (s2c.qotRight) {
        return {
          kind: "qotRight",
          type,
          typeName: "QotRight",
          rights: { ...s2c.qotRight },
        };
      }
      break;
    case NotifyType.APILevel:
      if (s2c.apiLevel) {
        return {
          kind: "apiLevel",
          type,
          typeName: "APILevel",
          apiLevel: s2c.apiLevel.apiLevel,
        };
      }
      break;
    case NotifyType.APIQuota:
      if (s2c.apiQuota) {
        return {
          kind: "apiQuota",
          type,
          typeName: "APIQuota",
          subQuota: s2c.apiQuota.subQuota,
          historyKLQuota: s2c.apiQuota.historyKLQuota,
        };
      }
      break;
    case NotifyType.UsedQuota:
      if (s2c.usedQuota) {
        return { ...base("usedQuota", type), ...s2c.usedQuota };
      }
      break;
  }
  return {
    ...base("unknown", type),
    s2c: canonical ?? fromTyped(schemaOf(S2C_SCHEMA), s2c),
  };
}

/**
 * Decodes a Notify.Response body (`fmt` 0 protobuf, 1 JSON).
 *
 * The response's `retType` is not checked: OpenD sends 0, and a push with
 * another value but a notification inside is still worth reading. A
 * response without `s2c` carries nothing and throws CodecError
 * MALFORMED_PROTOBUF (or MALFORMED_JSON for `fmt` 1), as does a body that
 * does not decode.
 *
 * @example
 * ```ts
 * import { decodeNotification, programStatusNotification, encodeNotification } from "./notify.ts";
 * const body = encodeNotification(programStatusNotification(10), 1);
 * decodeNotification(body, 1).kind; // "programStatus"
 * ```
 */
export function decodeNotification(
  body: Uint8Array,
  fmt: number = ProtoFmt.Protobuf,
): SystemNotification {
  const response = fmt === ProtoFmt.Protobuf ? readNotify(body) : toTyped(
    schemaOf(RESPONSE_SCHEMA),
    toJsonMapping(ProtoId.Notify, "response", body, fmt),
  );
  const s2c = response.s2c as NotifyS2C | undefined;
  if (!s2c) {
    const { retType, retMsg } = response;
    throw new CodecError(
      fmt === ProtoFmt.Json
        ? CodecErrorCode.MalformedJson
        : CodecErrorCode.MalformedProtobuf,
      `Notify response without s2c (retType ${retType}${
        retMsg === undefined ? "" : `, retMsg ${JSON.stringify(retMsg)}`
      })`,
      { protoId: ProtoId.Notify },
    );
  }
  return fromS2C(s2c);
}

const RESPONSE_SCHEMA = "Notify.Response";

function readNotify(body: Uint8Array): Record<string, unknown> {
  try {
    return readProtobuf(RESPONSE_SCHEMA, body, "typed");
  } catch (error) {
    if (error instanceof CodecError) {
      throw new CodecError(error.code, error.message, {
        protoId: ProtoId.Notify,
        cause: error.cause,
      });
    }
    throw error;
  }
}

/**
 * The Notify.S2C for a notification. Throws CodecError INVALID_MESSAGE when
 * a field is missing or of the wrong type.
 */
export function toNotifyS2C(n: NotificationInput): NotifyS2C {
  if (typeof n !== "object" || n === null) {
    throw new CodecError(
      CodecErrorCode.InvalidMessage,
      `a notification must be an object, not ${show(n)}`,
      { protoId: ProtoId.Notify },
    );
  }
  const type = n.type ??
    (n.kind === "unknown" ? undefined : KIND_TYPES[n.kind]);
  const typed: Record<string, unknown> = { type };
  switch (n.kind) {
    case "gtwEvent":
      typed.event = { eventType: n.eventType, desc: n.desc };
      break;
    case "programStatus":
      typed.programStatus = {
        programStatus: { type: n.status, strExtDesc: n.strExtDesc },
      };
      break;
    case "connStatus":
      typed.connectStatus = {
        qotLogined: n.qotLogined,
        trdLogined: n.trdLogined,
      };
      break;
    case "qotRight":
      typed.qotRight = n.rights;
      break;
    case "apiLevel":
      typed.apiLevel = { apiLevel: n.apiLevel };
      break;
    case "apiQuota":
      typed.apiQuota = {
        subQuota: n.subQuota,
        historyKLQuota: n.historyKLQuota,
      };
      break;
    case "usedQuota":
      typed.usedQuota = {
        usedSubQuota: n.usedSubQuota,
        usedKLineQuota: n.usedKLineQuota,
      };
      break;
    case "unknown":
      return unknownToS2C(n.s2c, n.type);
    default: {
      const kind = (n as { kind?: unknown }).kind;
      throw new CodecError(
        CodecErrorCode.InvalidMessage,
        `unknown notification kind ${show(kind)}`,
        { protoId: ProtoId.Notify },
      );
    }
  }
  const schema = schemaOf(S2C_SCHEMA);
  return toTyped(schema, fromTyped(schema, typed)) as unknown as NotifyS2C;
}

function unknownToS2C(
  s2c: Readonly<Record<string, unknown>>,
  type: number | undefined,
): NotifyS2C {
  const schema = schemaOf(S2C_SCHEMA);
  let canonical: JsonObject;
  try {
    canonical = parseJsonMapping(
      schema,
      type === undefined ? s2c : { ...s2c, type },
    );
  } catch (error) {
    if (!(error instanceof CodecError)) throw error;
    throw new CodecError(CodecErrorCode.InvalidMessage, error.message, {
      protoId: ProtoId.Notify,
    });
  }
  return toTyped(schema, canonical) as unknown as NotifyS2C;
}

/**
 * Encodes a Notify.Response body with retType 0 (`fmt` 0 protobuf, 1 JSON),
 * as OpenD pushes it. Throws CodecError INVALID_MESSAGE for an input that is
 * not a valid notification.
 *
 * @example
 * ```ts
 * import { encodeNotification } from "./notify.ts";
 * encodeNotification({ kind: "gtwEvent", eventType: 7, desc: "kicked out" });
 * encodeNotification({ kind: "programStatus", status: 11 }, 1);
 * ```
 */
export function encodeNotification(
  n: NotificationInput,
  fmt: number = ProtoFmt.Protobuf,
): Uint8Array {
  return encodeResponse(
    ProtoId.Notify,
    { retType: RetType.Succeed, s2c: toNotifyS2C(n) },
    fmt,
  );
}

/**
 * A gateway event notification.
 *
 * @example
 * ```ts
 * import { gtwEventNotification } from "./notify.ts";
 * gtwEventNotification(7, "logged in elsewhere").eventName; // "KickedOut"
 * ```
 */
export function gtwEventNotification(
  eventType: number,
  desc = "",
): GtwEventNotification {
  return {
    ...base("gtwEvent", NotifyType.GtwEvent),
    eventType,
    eventName: nameOf(GtwEventType, eventType),
    desc,
  };
}

/**
 * A program status notification.
 *
 * @example
 * ```ts
 * import { programStatusNotification } from "./notify.ts";
 * programStatusNotification(5, "wrong password").statusName; // "LoginFailed"
 * ```
 */
export function programStatusNotification(
  status: number,
  strExtDesc?: string,
): ProgramStatusNotification {
  return {
    ...base("programStatus", NotifyType.ProgramStatus),
    status,
    statusName: nameOf(ProgramStatusType, status),
    ...(strExtDesc === undefined ? {} : { strExtDesc }),
  };
}

/** A quote/trade server login notification. */
export function connStatusNotification(
  qotLogined: boolean,
  trdLogined: boolean,
): ConnStatusNotification {
  return {
    ...base("connStatus", NotifyType.ConnStatus),
    qotLogined,
    trdLogined,
  };
}

/**
 * A quote rights notification.
 *
 * @example
 * ```ts
 * import { qotRightNotification } from "./notify.ts";
 * qotRightNotification({ hkQotRight: 4, usQotRight: 3, cnQotRight: 2 });
 * ```
 */
export function qotRightNotification(
  rights: NotifyQotRight,
): QotRightNotification {
  return { ...base("qotRight", NotifyType.QotRight), rights: { ...rights } };
}

/** A user level notification (deprecated by OpenD). */
export function apiLevelNotification(apiLevel: string): ApiLevelNotification {
  return { ...base("apiLevel", NotifyType.APILevel), apiLevel };
}

/** An API quota notification. */
export function apiQuotaNotification(
  subQuota: number,
  historyKLQuota: number,
): ApiQuotaNotification {
  return {
    ...base("apiQuota", NotifyType.APIQuota),
    subQuota,
    historyKLQuota,
  };
}

/** A used quota notification; absent counts stay absent. */
export function usedQuotaNotification(
  usedSubQuota?: number,
  usedKLineQuota?: number,
): UsedQuotaNotification {
  return {
    ...base("usedQuota", NotifyType.UsedQuota),
    ...(usedSubQuota === undefined ? {} : { usedSubQuota }),
    ...(usedKLineQuota === undefined ? {} : { usedKLineQuota }),
  };
}
