/**
 * OpenD's General Definitions as typed constants.
 *
 * Each table is an `as const` object from name to the protocol's number, with a
 * union type of its values and of its names. Values received from the network
 * are kept as plain numbers, so a value a newer OpenD adds is never dropped or
 * coerced: {@link nameOf} answers `undefined` for it.
 * @module
 */

/** Result of a request (`Common.RetType`). */
export const RetType = {
  Succeed: 0,
  Failed: -1,
  TimeOut: -100,
  DisConnect: -200,
  Unknown: -400,
  Invalid: -500,
} as const;
/** A known {@link RetType} value. */
export type RetType = typeof RetType[keyof typeof RetType];
/** A {@link RetType} name. */
export type RetTypeName = keyof typeof RetType;

/** Body format in the packet header (`Common.ProtoFmt`). */
export const ProtoFmt = {
  Protobuf: 0,
  Json: 1,
} as const;
/** A known {@link ProtoFmt} value. */
export type ProtoFmt = typeof ProtoFmt[keyof typeof ProtoFmt];
/** A {@link ProtoFmt} name. */
export type ProtoFmtName = keyof typeof ProtoFmt;

/** Body encryption negotiated by InitConnect (`Common.PacketEncAlgo`). */
export const PacketEncAlgo = {
  FTAES_ECB: 0,
  None: -1,
  AES_ECB: 1,
  AES_CBC: 2,
} as const;
/** A known {@link PacketEncAlgo} value. */
export type PacketEncAlgo = typeof PacketEncAlgo[keyof typeof PacketEncAlgo];
/** A {@link PacketEncAlgo} name. */
export type PacketEncAlgoName = keyof typeof PacketEncAlgo;

/** OpenD's login and readiness status (`Common.ProgramStatusType`). */
export const ProgramStatusType = {
  None: 0,
  Loaded: 1,
  Loging: 2,
  NeedPicVerifyCode: 3,
  NeedPhoneVerifyCode: 4,
  LoginFailed: 5,
  ForceUpdate: 6,
  NessaryDataPreparing: 7,
  NessaryDataMissing: 8,
  UnAgreeDisclaimer: 9,
  Ready: 10,
  ForceLogout: 11,
  DisclaimerPullFailed: 12,
} as const;
/** A known {@link ProgramStatusType} value. */
export type ProgramStatusType =
  typeof ProgramStatusType[keyof typeof ProgramStatusType];
/** A {@link ProgramStatusType} name. */
export type ProgramStatusTypeName = keyof typeof ProgramStatusType;

/** Gateway events pushed by OpenD (`Notify.GtwEventType`). */
export const GtwEventType = {
  None: 0,
  LocalCfgLoadFailed: 1,
  APISvrRunFailed: 2,
  ForceUpdate: 3,
  LoginFailed: 4,
  UnAgreeDisclaimer: 5,
  NetCfgMissing: 6,
  KickedOut: 7,
  LoginPwdChanged: 8,
  BanLogin: 9,
  NeedPicVerifyCode: 10,
  NeedPhoneVerifyCode: 11,
  AppDataNotExist: 12,
  NessaryDataMissing: 13,
  TradePwdChanged: 14,
  EnableDeviceLock: 15,
} as const;
/** A known {@link GtwEventType} value. */
export type GtwEventType = typeof GtwEventType[keyof typeof GtwEventType];
/** A {@link GtwEventType} name. */
export type GtwEventTypeName = keyof typeof GtwEventType;

/** Kind of a system notification (`Notify.NotifyType`). */
export const NotifyType = {
  None: 0,
  GtwEvent: 1,
  ProgramStatus: 2,
  ConnStatus: 3,
  QotRight: 4,
  APILevel: 5,
  APIQuota: 6,
  UsedQuota: 7,
} as const;
/** A known {@link NotifyType} value. */
export type NotifyType = typeof NotifyType[keyof typeof NotifyType];
/** A {@link NotifyType} name. */
export type NotifyTypeName = keyof typeof NotifyType;

/** Where the logged-in user is registered (`Common.UserAttribution`). */
export const UserAttribution = {
  Unknown: 0,
  NN: 1,
  MM: 2,
  SG: 3,
  AU: 4,
  JP: 5,
  HK: 6,
} as const;
/** A known {@link UserAttribution} value. */
export type UserAttribution =
  typeof UserAttribution[keyof typeof UserAttribution];
/** A {@link UserAttribution} name. */
export type UserAttributionName = keyof typeof UserAttribution;

/** The system protocols this module speaks (protoID in the packet header). */
export const ProtoId = {
  InitConnect: 1001,
  GetGlobalState: 1002,
  Notify: 1003,
  KeepAlive: 1004,
  GetUserInfo: 1005,
  Verification: 1006,
} as const;
/** A known {@link ProtoId} value. */
export type ProtoId = typeof ProtoId[keyof typeof ProtoId];
/** A {@link ProtoId} name. */
export type ProtoIdName = keyof typeof ProtoId;

/** Verification code kind (`Verification.VerificationType`). */
export const VerificationType = {
  Unknow: 0,
  Picture: 1,
  Phone: 2,
} as const;
/** A known {@link VerificationType} value. */
export type VerificationType =
  typeof VerificationType[keyof typeof VerificationType];
/** A {@link VerificationType} name. */
export type VerificationTypeName = keyof typeof VerificationType;

/** Verification operation (`Verification.VerificationOp`). */
export const VerificationOp = {
  Unknow: 0,
  Request: 1,
  InputAndLogin: 2,
} as const;
/** A known {@link VerificationOp} value. */
export type VerificationOp = typeof VerificationOp[keyof typeof VerificationOp];
/** A {@link VerificationOp} name. */
export type VerificationOpName = keyof typeof VerificationOp;

/**
 * Protocols OpenD pushes without a request; their serialNo matches nothing.
 * Notify (1003), trade pushes (2207 account push, 2208 order update, 2218 fill
 * update) and quote pushes.
 */
export const PUSH_PROTO_IDS: ReadonlySet<number> = new Set([
  1003,
  2207,
  2208,
  2218,
  3005,
  3007,
  3009,
  3011,
  3013,
  3015,
  3019,
  3261,
  3310,
  3450,
  3451,
]);

const reverseTables = new WeakMap<object, Map<number, string>>();

/**
 * The name of `value` in `table`, or `undefined` when the value is not one the
 * table knows (for example one a newer OpenD added).
 *
 * @example
 * ```ts
 * import { GtwEventType, nameOf } from "./definitions.ts";
 * nameOf(GtwEventType, 7); // "KickedOut"
 * nameOf(GtwEventType, 99); // undefined
 * ```
 */
export function nameOf<T extends Readonly<Record<string, number>>>(
  table: T,
  value: number,
): keyof T & string | undefined {
  let reverse = reverseTables.get(table);
  if (!reverse) {
    reverse = new Map(Object.entries(table).map(([name, v]) => [v, name]));
    reverseTables.set(table, reverse);
  }
  return reverse.get(value) as keyof T & string | undefined;
}

/**
 * `nameOf(table, value)`, or `Unknown(value)` for a value the table does not
 * know: a readable label that still keeps the number.
 *
 * @example
 * ```ts
 * import { ProgramStatusType, labelOf } from "./definitions.ts";
 * labelOf(ProgramStatusType, 10); // "Ready"
 * labelOf(ProgramStatusType, 42); // "Unknown(42)"
 * ```
 */
export function labelOf(
  table: Readonly<Record<string, number>>,
  value: number,
): string {
  return nameOf(table, value) ?? `Unknown(${value})`;
}
