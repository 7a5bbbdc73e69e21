// Subnormal floats flushed to zero, as inputs and as results (x86's FTZ and DAZ bits of MXCSR).
// Adam's moments decay towards zero for parameters whose gradients are rare (weights of pixels
// that are almost always black), and once they go subnormal every vector instruction that
// touches them takes a microcode assist: the update then costs more than twice what it should
// (docs/performance.md, "Subnormal moments"). Flushing changes nothing a reconstruction shows:
// the values lost are below 1.2e-38.
//
// The setting belongs to a thread and is inherited by the threads it starts, so aeflow's
// programs call this first thing in main, before OpenMP or oneDNN start any. Elsewhere than
// x86-64 it does nothing.
#pragma once

namespace aeflow {

void flush_denormals();

}  // namespace aeflow
