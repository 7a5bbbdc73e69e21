// An include the layering allows (the check must not name this file). Never compiled.
#include "aeflow/base/error.hpp"
