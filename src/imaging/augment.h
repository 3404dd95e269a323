// Training-time augmentation of the multi-scale crops (seeded: the caller passes the generator,
// derived per epoch/patient with core/random.h derive_seed, so reruns are identical).
// One draw is applied to both crops of a patient so tumour and context stay consistent:
// left-right flip (patient left-right: in the sagittal frame the channel planes are reversed,
// the in-plane image is not mirrored; in the acquisition frame, as before, the crop's x axis is
// mirrored, which on a sagittal acquisition is an anterior-posterior flip), rotation and zoom about the crop centre (bilinear, edge pixels replicated
// outside), then intensity gain and offset (in SD units after z-scoring; the mask planes, when
// present, get the same geometry and no intensity change). Augmenting the cached
// crops rather than the volume keeps the epoch loop free of volume I/O; the cost is that the
// corners of a rotated crop repeat edge pixels instead of showing real tissue.
#pragma once

#include <random>

#include "imaging/params.h"
#include "imaging/roi.h"

namespace cervirisk::imaging {

struct AugmentDraw {
  bool flip = false;
  double angle_rad = 0;
  double zoom = 1;
  double gain = 1;
  double offset = 0;
};

AugmentDraw draw_augment(const AugmentParams& params, std::mt19937_64& rng);
void apply_augment(Crop& crop, const AugmentDraw& draw, Frame frame = Frame::kAcquisition);
// Draws once and applies to both crops (no-op when params.enabled is false).
AugmentDraw augment(PatientSample& sample, const AugmentParams& params, std::mt19937_64& rng);

}  // namespace cervirisk::imaging
