/** How long after SELER_SHUTDOWN_TIMEOUT a shutdown may still take (closing connections, stopping the private Redis) before seler stops at once. */
export const SHUTDOWN_MARGIN_MS = 5000;
