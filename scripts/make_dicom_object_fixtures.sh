#!/bin/sh
# Regenerates tests/data/dicom_objects/ (see its PROVENANCE.md): a synthetic NIfTI image and
# masks (nibabel), a DICOM image series + RTSTRUCT written by plastimatch from them, plastimatch's
# own rasterisation of that RTSTRUCT, and DICOM-SEG objects written by hand with pydicom.
# Needs: /usr/bin/python3 with numpy, nibabel and pydicom; plastimatch (1.9.4 was used).
# UIDs are generated afresh on every run, so the files differ byte for byte between runs; the
# geometry and the masks do not.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../tests/data/dicom_objects}
py=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir -p "$out"
rm -rf "$out/image" "$out/malformed" "$out"/*.dcm "$out"/*.nii.gz "$out"/ss_list.txt
$py "$here/make_dicom_object_fixtures.py" nifti "$out"

# NIfTI image + structure-set image (bit b = structure b of ss_list.txt) -> DICOM series + RTSTRUCT
plastimatch convert --input "$out/image.nii.gz" --input-ss-img "$out/ss.nii.gz" \
  --input-ss-list "$out/ss_list.txt" --output-dicom "$work/dicom" --modality MR \
  --patient-name "Synthetic^Phantom" --patient-id SYNTH001 --filenames-without-uids >"$work/log1" 2>&1
mkdir -p "$out/image"
cp "$work"/dicom/image*.dcm "$out/image/"
cp "$work/dicom/rtss.dcm" "$out/rtstruct.dcm"

# plastimatch's rasterisation of its RTSTRUCT on the image series. Contours on one slice are
# combined with --xor-contours (a contour inside another is a hole: the even-odd rule); by
# default plastimatch ORs them and fills the holes (kept as *_or for comparison).
for mode in xor or; do
  flag=""
  [ "$mode" = xor ] && flag="--xor-contours"
  # shellcheck disable=SC2086
  plastimatch convert --input "$out/rtstruct.dcm" --referenced-ct "$out/image" $flag \
    --output-prefix "$work/prefix_$mode" --prefix-format nrrd >"$work/log_$mode" 2>&1
  for s in GTV Bladder; do
    plastimatch convert --input "$work/prefix_$mode/$s.nrrd" --output-img "$out/plastimatch_${mode}_$s.nii.gz" \
      --output-type uchar >>"$work/log_$mode" 2>&1
  done
done

$py "$here/make_dicom_object_fixtures.py" seg "$out"

# plastimatch's rasterisation of the RTSTRUCT with analytic contours (rtstruct_polygons.dcm)
plastimatch convert --input "$out/rtstruct_polygons.dcm" --referenced-ct "$out/image" --xor-contours \
  --output-prefix "$work/prefix_poly" --prefix-format nrrd >"$work/log_poly" 2>&1
plastimatch convert --input "$work/prefix_poly/GTV.nrrd" --output-img "$out/plastimatch_xor_polygons.nii.gz" \
  --output-type uchar >>"$work/log_poly" 2>&1
rm -f "$out/ss.nii.gz"
echo "fixtures written to $out"
