/**
 * The events OpenD's notifications become, and the one function that maps a
 * decoded Notify push to them (the seam between `codec/` and `machines/`).
 * @module
 */
import type { SystemNotification } from "../codec/system_notification.ts";

/** OpenD reported its program status (authoritative). */
export interface ProgramStatusEvent {
  /** Discriminant. */
  readonly type: "PROGRAM_STATUS";
  /** A ProgramStatusType number (unknown numbers are recorded, not followed). */
  readonly status: number;
  /** OpenD's extra description, e.g. why login failed. */
  readonly strExtDesc?: string;
  /**
   * True when it came from GetGlobalState after a (re)connect rather than a
   * push: a snapshot that may predate a command sent on the operations port.
   */
  readonly seeded?: boolean;
}

/** OpenD pushed a gateway event. */
export interface GtwEventEvent {
  /** Discriminant. */
  readonly type: "GTW_EVENT";
  /** A GtwEventType number (unknown numbers are recorded). */
  readonly eventType: number;
  /** OpenD's description of the event. */
  readonly desc?: string;
}

/** Quote and trade server logins. */
export interface ConnStatusEvent {
  /** Discriminant. */
  readonly type: "CONN_STATUS";
  /** Logged in to the quote server. */
  readonly qotLogined: boolean;
  /** Logged in to the trade server. */
  readonly trdLogined: boolean;
}

/** Quote rights (Qot_Common.QotRight numbers by field name). */
export interface QotRightEvent {
  /** Discriminant. */
  readonly type: "QOT_RIGHT";
  /** Every QotRight field present, by its .proto name. */
  readonly rights: Readonly<Record<string, number | boolean>>;
}

/** API quota. */
export interface ApiQuotaEvent {
  /** Discriminant. */
  readonly type: "API_QUOTA";
  /** Subscription quota. */
  readonly subQuota: number;
  /** Historical K-line quota. */
  readonly historyKLQuota: number;
}

/** Used quota. */
export interface UsedQuotaEvent {
  /** Discriminant. */
  readonly type: "USED_QUOTA";
  /** Subscriptions in use, when reported. */
  readonly usedSubQuota?: number;
  /** Historical K-line quota used, when reported. */
  readonly usedKLineQuota?: number;
}

/** User level (deprecated by OpenD 2.10, kept for old gateways). */
export interface ApiLevelEvent {
  /** Discriminant. */
  readonly type: "API_LEVEL";
  /** The user level OpenD reported. */
  readonly apiLevel: string;
}

/** A notification this build cannot type; it is recorded, never followed. */
export interface UnknownNotificationEvent {
  /** Discriminant. */
  readonly type: "UNKNOWN_NOTIFICATION";
  /** The NotifyType number as received. */
  readonly notifyType: number;
}

/** Every event a decoded Notify push can become. */
export type GatewayInputEvent =
  | ProgramStatusEvent
  | GtwEventEvent
  | ConnStatusEvent
  | QotRightEvent
  | ApiQuotaEvent
  | UsedQuotaEvent
  | ApiLevelEvent
  | UnknownNotificationEvent;

/** Start over: leaves `fatal`, clears what was learned. */
export interface ResetEvent {
  /** Discriminant. */
  readonly type: "RESET";
}

/**
 * The machine event for a decoded Notify push. Total: every notification,
 * including ones this build cannot type, becomes exactly one event.
 *
 * @example
 * ```ts
 * import { notificationToEvent } from "./gateway_events.ts";
 * notificationToEvent({
 *   kind: "gtwEvent",
 *   type: 1,
 *   typeName: "GtwEvent",
 *   eventType: 7,
 *   eventName: "KickedOut",
 *   desc: "logged in elsewhere",
 * });
 * // { type: "GTW_EVENT", eventType: 7, desc: "logged in elsewhere" }
 * ```
 */
export function notificationToEvent(
  notification: SystemNotification,
): GatewayInputEvent {
  switch (notification.kind) {
    case "gtwEvent":
      return {
        type: "GTW_EVENT",
        eventType: notification.eventType,
        desc: notification.desc,
      };
    case "programStatus":
      return notification.strExtDesc === undefined
        ? { type: "PROGRAM_STATUS", status: notification.status }
        : {
          type: "PROGRAM_STATUS",
          status: notification.status,
          strExtDesc: notification.strExtDesc,
        };
    case "connStatus":
      return {
        type: "CONN_STATUS",
        qotLogined: notification.qotLogined,
        trdLogined: notification.trdLogined,
      };
    case "qotRight":
      return { type: "QOT_RIGHT", rights: notification.rights };
    case "apiLevel":
      return { type: "API_LEVEL", apiLevel: notification.apiLevel };
    case "apiQuota":
      return {
        type: "API_QUOTA",
        subQuota: notification.subQuota,
        historyKLQuota: notification.historyKLQuota,
      };
    case "usedQuota": {
      const event: {
        type: "USED_QUOTA";
        usedSubQuota?: number;
        usedKLineQuota?: number;
      } = { type: "USED_QUOTA" };
      if (notification.usedSubQuota !== undefined) {
        event.usedSubQuota = notification.usedSubQuota;
      }
      if (notification.usedKLineQuota !== undefined) {
        event.usedKLineQuota = notification.usedKLineQuota;
      }
      return event;
    }
    default:
      return { type: "UNKNOWN_NOTIFICATION", notifyType: notification.type };
  }
}
