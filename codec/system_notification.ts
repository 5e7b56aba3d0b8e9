/**
 * The typed form of OpenD's Notify (1003) push.
 * @module
 */
import type {
  GtwEventTypeName,
  NotifyTypeName,
  ProgramStatusTypeName,
} from "./definitions.ts";

/** Fields every {@link SystemNotification} carries. */
export interface NotificationBase {
  /** The NotifyType number as received (kept even when unknown). */
  readonly type: number;
  /** The NotifyType name, `undefined` when this build does not know it. */
  readonly typeName: NotifyTypeName | undefined;
}

/** A gateway event (NotifyType 1). */
export interface GtwEventNotification extends NotificationBase {
  readonly kind: "gtwEvent";
  /** The GtwEventType number as received. */
  readonly eventType: number;
  /** Its name, `undefined` when unknown. */
  readonly eventName: GtwEventTypeName | undefined;
  /** OpenD's description of the event. */
  readonly desc: string;
}

/** OpenD's program status changed (NotifyType 2). */
export interface ProgramStatusNotification extends NotificationBase {
  readonly kind: "programStatus";
  /** The ProgramStatusType number as received. */
  readonly status: number;
  /** Its name, `undefined` when unknown. */
  readonly statusName: ProgramStatusTypeName | undefined;
  /** OpenD's extra description (for example why login failed), if any. */
  readonly strExtDesc?: string;
}

/** Quote and trade server logins changed (NotifyType 3). */
export interface ConnStatusNotification extends NotificationBase {
  readonly kind: "connStatus";
  readonly qotLogined: boolean;
  readonly trdLogined: boolean;
}

/** Quote rights changed (NotifyType 4); values are Qot_Common.QotRight numbers. */
export interface QotRightNotification extends NotificationBase {
  readonly kind: "qotRight";
  /** Every field of Notify.QotRight that was present, by its .proto name. */
  readonly rights: Readonly<Record<string, number | boolean>>;
}

/** User level (NotifyType 5, deprecated since OpenD 2.10). */
export interface ApiLevelNotification extends NotificationBase {
  readonly kind: "apiLevel";
  readonly apiLevel: string;
}

/** API quota (NotifyType 6). */
export interface ApiQuotaNotification extends NotificationBase {
  readonly kind: "apiQuota";
  readonly subQuota: number;
  readonly historyKLQuota: number;
}

/** Used quota (NotifyType 7). */
export interface UsedQuotaNotification extends NotificationBase {
  readonly kind: "usedQuota";
  readonly usedSubQuota?: number;
  readonly usedKLineQuota?: number;
}

/**
 * A notification this build cannot type: an unknown NotifyType, NotifyType 0,
 * or a known type whose payload is missing. Nothing is dropped: `s2c` holds the
 * whole Notify.S2C in protobuf's JSON mapping.
 */
export interface UnknownNotification extends NotificationBase {
  readonly kind: "unknown";
  readonly s2c: Readonly<Record<string, unknown>>;
}

/**
 * A decoded Notify push, discriminated by `kind`.
 *
 * @example
 * ```ts
 * import type { SystemNotification } from "./system_notification.ts";
 * function describe(n: SystemNotification): string {
 *   switch (n.kind) {
 *     case "gtwEvent":
 *       return `event ${n.eventName ?? n.eventType}: ${n.desc}`;
 *     case "programStatus":
 *       return `status ${n.statusName ?? n.status}`;
 *     default:
 *       return n.kind;
 *   }
 * }
 * ```
 */
export type SystemNotification =
  | GtwEventNotification
  | ProgramStatusNotification
  | ConnStatusNotification
  | QotRightNotification
  | ApiLevelNotification
  | ApiQuotaNotification
  | UsedQuotaNotification
  | UnknownNotification;
