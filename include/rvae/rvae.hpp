// rvae: a client for remote VAE encode/decode endpoints. Include this one header for everything.
#pragma once

#include "rvae/bytes.hpp"
#include "rvae/call_window.hpp"
#include "rvae/client.hpp"
#include "rvae/error.hpp"
#include "rvae/image.hpp"
#include "rvae/image_resize.hpp"
#include "rvae/latent_file.hpp"
#include "rvae/options.hpp"
#include "rvae/presets.hpp"
#include "rvae/preview.hpp"
#include "rvae/tensor.hpp"
#include "rvae/tiled.hpp"
#include "rvae/tiling.hpp"
#include "rvae/version.h"
