/** Test doubles for xenstore users (named as doubles: they stand in for guest-side kernel code). */
export {
  type AppliedChange,
  BALLOON_DOUBLE_MARK,
  BALLOON_DOUBLE_MARK_PATH,
  type BalloonDoubleOptions,
  BalloonDriverDouble,
} from "./balloon_double.ts";
