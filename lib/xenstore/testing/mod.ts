/** Test doubles for xenstore users (named as doubles: they stand in for guest-side kernel code). */
export { type AppliedChange, type BalloonDoubleOptions, BalloonDriverDouble } from "./balloon_double.ts";
