package handlers

// sysFork is fork(2), which arm64 lacks (libcs use clone).
const sysFork = -1
