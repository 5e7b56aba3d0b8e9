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
  /** Discriminant. */
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
  /** Discriminant. */
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
  /** Discriminant. */
  readonly kind: "connStatus";
  /** Logged in to the quote server. */
  readonly qotLogined: boolean;
  /** Logged in to the trade server. */
  readonly trdLogined: boolean;
}

/** Quote rights changed (NotifyType 4); values are Qot_Common.QotRight numbers. */
export interface QotRightNotification extends NotificationBase {
  /** Discriminant. */
  readonly kind: "qotRight";
  /** Every field of Notify.QotRight that was present, by its .proto name. */
  readonly rights: Readonly<Record<string, number | boolean>>;
}

/** User level (NotifyType 5, deprecated since OpenD 2.10). */
export interface ApiLevelNotification extends NotificationBase {
  /** Discriminant. */
  readonly kind: "apiLevel";
  /** User level description (deprecated since OpenD 2.10). */
  readonly apiLevel: string;
}

/** API quota (NotifyType 6). */
export interface ApiQuotaNotification extends NotificationBase {
  /** Discriminant. */
  readonly kind: "apiQuota";
  /** Subscription quota. */
  readonly subQuota: number;
  /** Historical candlestick quota. */
  readonly historyKLQuota: number;
}

/** Used quota (NotifyType 7). */
export interface UsedQuotaNotification extends NotificationBase {
  /** Discriminant. */
  readonly kind: "usedQuota";
  /** Subscription quota used. */
  readonly usedSubQuota?: number;
  /** Historical candlestick quota used. */
  readonly usedKLineQuota?: number;
}

/**
 * A notification this build cannot type: an unknown NotifyType, NotifyType 0,
 * or a known type whose payload is missing. Nothing is dropped: `s2c` holds the
 * whole Notify.S2C in protobuf's JSON mapping.
 */
export interface UnknownNotification extends NotificationBase {
  /** Discriminant. */
  readonly kind: "unknown";
  /** The whole Notify.S2C in protobuf's JSON mapping. */
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
