// The native baseline for cloudabi-run's start-to-exit time: a static
// program that does nothing (scripts/bench links it with -static).
// SPDX-License-Identifier: BSD-2-Clause

int main(void) {
  return 0;
}
