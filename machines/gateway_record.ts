/**
 * What the program-status machine knows about OpenD besides its state: the
 * last status details, the event that explains it, logins, quotas, and every
 * value this build did not understand.
 * @module
 */
import {
  GtwEventType,
  labelOf,
  nameOf,
  NotifyType,
  ProgramStatusType,
  type ProgramStatusTypeName,
} from "../codec/definitions.ts";
import type {
  ApiQuotaEvent,
  ConnStatusEvent,
  GtwEventEvent,
  ProgramStatusEvent,
  QotRightEvent,
  UsedQuotaEvent,
} from "./gateway_events.ts";
import { gtwEventRule, type Policy, statusRule } from "./policy.ts";

/** A gateway event as remembered. */
export interface GtwEventSummary {
  /** The GtwEventType number as received. */
  readonly eventType: number;
  /** The GtwEventType name, or `Unknown(n)`. */
  readonly name: string;
  /** OpenD's description, when it gave one. */
  readonly desc?: string;
}

/** Why the gateway is fatal. */
export interface FatalInfo {
  /** For people: what happened and what it means. */
  readonly reason: string;
  /** The GtwEventType that made it fatal, if an event did. */
  readonly eventType?: number;
  /** The ProgramStatusType that made it fatal, if a status did. */
  readonly status?: number;
}

/** An input value this build did not know; kept so nothing is lost. */
export interface UnknownInput {
  /** Which input carried the value. */
  readonly kind: "programStatus" | "gtwEvent" | "notification";
  /** The number as received. */
  readonly value: number;
  /** The description that came with it, if any. */
  readonly desc?: string;
}

/** How many unknown inputs are kept (the newest ones). */
export const MAX_UNKNOWN_INPUTS = 16;

/** Everything learned from OpenD's notifications. */
export interface GatewayRecord {
  /** The last known ProgramStatusType number. */
  readonly status: number;
  /** The last known status, by name. */
  readonly statusName: ProgramStatusTypeName;
  /** OpenD's extra description of the status, if any. */
  readonly strExtDesc?: string;
  /** The gateway event that explains the current status, if one did. */
  readonly reason: GtwEventSummary | null;
  /** The last known gateway event. */
  readonly lastEvent: GtwEventSummary | null;
  /** Why the gateway is fatal, `null` while it is not. */
  readonly fatal: FatalInfo | null;
  /** Trading is locked until it is unlocked again (TradePwdChanged). */
  readonly tradingLocked: boolean;
  /** Logged in to the quote server, `null` until known. */
  readonly qotLogined: boolean | null;
  /** Logged in to the trade server, `null` until known. */
  readonly trdLogined: boolean | null;
  /** Quote rights by QotRight field name, `null` until known. */
  readonly qotRights: Readonly<Record<string, number | boolean>> | null;
  /** API quota, `null` until known. */
  readonly apiQuota: {
    readonly subQuota: number;
    readonly historyKLQuota: number;
  } | null;
  /** Quota in use, `null` until known. */
  readonly usedQuota: {
    readonly usedSubQuota?: number;
    readonly usedKLineQuota?: number;
  } | null;
  /** User level (deprecated by OpenD), `null` until known. */
  readonly apiLevel: string | null;
  /** The newest {@link MAX_UNKNOWN_INPUTS} values this build did not know. */
  readonly unknown: readonly UnknownInput[];
}

/** The record before anything was heard. */
export function emptyGatewayRecord(): GatewayRecord {
  return {
    status: ProgramStatusType.None,
    statusName: "None",
    reason: null,
    lastEvent: null,
    fatal: null,
    tradingLocked: false,
    qotLogined: null,
    trdLogined: null,
    qotRights: null,
    apiQuota: null,
    usedQuota: null,
    apiLevel: null,
    unknown: [],
  };
}

function summarize(event: GtwEventEvent): GtwEventSummary {
  return event.desc === undefined
    ? {
      eventType: event.eventType,
      name: labelOf(GtwEventType, event.eventType),
    }
    : {
      eventType: event.eventType,
      name: labelOf(GtwEventType, event.eventType),
      desc: event.desc,
    };
}

function withUnknown(
  record: GatewayRecord,
  unknown: UnknownInput,
): GatewayRecord {
  return {
    ...record,
    unknown: [...record.unknown, unknown].slice(-MAX_UNKNOWN_INPUTS),
  };
}

/** Follows an authoritative PROGRAM_STATUS (known status only). */
export function recordStatus(
  record: GatewayRecord,
  event: ProgramStatusEvent,
): GatewayRecord {
  const statusName = nameOf(ProgramStatusType, event.status);
  if (statusName === undefined) return recordUnknownStatus(record, event);
  return {
    ...record,
    status: event.status,
    statusName,
    strExtDesc: event.strExtDesc,
    // The event that explained a status still explains it when OpenD
    // confirms that status (for example ForceLogout after KickedOut).
    reason: event.status === record.status ? record.reason : null,
  };
}

/** Keeps a PROGRAM_STATUS whose number this build does not know. */
export function recordUnknownStatus(
  record: GatewayRecord,
  event: ProgramStatusEvent,
): GatewayRecord {
  return withUnknown(
    record,
    event.strExtDesc === undefined
      ? { kind: "programStatus", value: event.status }
      : { kind: "programStatus", value: event.status, desc: event.strExtDesc },
  );
}

/** Follows a known GTW_EVENT: the status it implies, trading lock. */
export function recordGtwEvent(
  record: GatewayRecord,
  event: GtwEventEvent,
  policy: Policy,
): GatewayRecord {
  const rule = gtwEventRule(policy, event.eventType);
  if (rule === undefined) return recordUnknownGtwEvent(record, event);
  const summary = summarize(event);
  const next: GatewayRecord = {
    ...record,
    lastEvent: summary,
    tradingLocked: record.tradingLocked || rule.locksTrading === true,
  };
  if (rule.impliedStatus === null) return next;
  return {
    ...next,
    status: ProgramStatusType[rule.impliedStatus],
    statusName: rule.impliedStatus,
    strExtDesc: undefined,
    reason: summary,
  };
}

/** Keeps a GTW_EVENT whose number this build does not know. */
export function recordUnknownGtwEvent(
  record: GatewayRecord,
  event: GtwEventEvent,
): GatewayRecord {
  return withUnknown(
    record,
    event.desc === undefined
      ? { kind: "gtwEvent", value: event.eventType }
      : { kind: "gtwEvent", value: event.eventType, desc: event.desc },
  );
}

/** Keeps a notification kind this build does not know. */
export function recordUnknownNotification(
  record: GatewayRecord,
  notifyType: number,
): GatewayRecord {
  return withUnknown(record, {
    kind: "notification",
    value: notifyType,
    desc: labelOf(NotifyType, notifyType),
  });
}

/** Quote and trade logins. */
export function recordConnStatus(
  record: GatewayRecord,
  event: ConnStatusEvent,
): GatewayRecord {
  return {
    ...record,
    qotLogined: event.qotLogined === true,
    trdLogined: event.trdLogined === true,
  };
}

/** Quote rights. */
export function recordQotRight(
  record: GatewayRecord,
  event: QotRightEvent,
): GatewayRecord {
  return { ...record, qotRights: { ...event.rights } };
}

/** API quota. */
export function recordApiQuota(
  record: GatewayRecord,
  event: ApiQuotaEvent,
): GatewayRecord {
  return {
    ...record,
    apiQuota: {
      subQuota: event.subQuota,
      historyKLQuota: event.historyKLQuota,
    },
  };
}

/** Used quota: a field absent from the push keeps its previous value. */
export function recordUsedQuota(
  record: GatewayRecord,
  event: UsedQuotaEvent,
): GatewayRecord {
  return {
    ...record,
    usedQuota: {
      ...record.usedQuota,
      ...(event.usedSubQuota === undefined
        ? {}
        : { usedSubQuota: event.usedSubQuota }),
      ...(event.usedKLineQuota === undefined
        ? {}
        : { usedKLineQuota: event.usedKLineQuota }),
    },
  };
}

/** Why a fatal GTW_EVENT is fatal, in words. */
export function fatalFromGtwEvent(
  event: GtwEventEvent,
  policy: Policy,
): FatalInfo {
  const name = labelOf(GtwEventType, event.eventType);
  const summary = gtwEventRule(policy, event.eventType)?.summary ?? name;
  const desc = event.desc ? ` (${event.desc})` : "";
  return {
    reason: `${name}: ${summary}${desc}`,
    eventType: event.eventType,
  };
}

/** Why a fatal PROGRAM_STATUS is fatal, in words. */
export function fatalFromStatus(
  event: ProgramStatusEvent,
  policy: Policy,
): FatalInfo {
  const name = labelOf(ProgramStatusType, event.status);
  const summary = statusRule(policy, event.status)?.summary ?? name;
  const desc = event.strExtDesc ? ` (${event.strExtDesc})` : "";
  return { reason: `${name}: ${summary}${desc}`, status: event.status };
}
