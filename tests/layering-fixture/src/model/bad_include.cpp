// A model file that includes what model may not (tests/CMakeLists.txt: the layering check must
// refuse it). Never compiled.
#include <mpi.h>

#include "aeflow/model/network.hpp"
#include "aeflow/train/trainer.hpp"
