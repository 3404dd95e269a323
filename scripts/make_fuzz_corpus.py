#!/usr/bin/python3
"""Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>) from the repository's
own small test files (tests/data) and a few hand-written inputs. Run from the repository root:
    /usr/bin/python3 scripts/make_fuzz_corpus.py
Inputs of targets whose harness splits on the first byte (mask, tokenizer, runfolder) start with
the byte that picks the case (tests/fuzz/fuzz_<target>.cpp)."""
import gzip
import io
import os
import shutil
import struct
import zipfile
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "tests", "data")
OUT = os.path.join(ROOT, "tests", "fuzz", "corpus")


def put(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def read(*parts):
    with open(os.path.join(DATA, *parts), "rb") as f:
        return f.read()


def mha(dims, etype, data, compressed=False):
    body = zlib.compress(data) if compressed else data
    header = (
        "ObjectType = Image\nNDims = 3\nBinaryData = True\nBinaryDataByteOrderMSB = False\n"
        f"CompressedData = {'True' if compressed else 'False'}\n"
        + (f"CompressedDataSize = {len(body)}\n" if compressed else "")
        + "TransformMatrix = 1 0 0 0 1 0 0 0 1\nOffset = -6 -6 -8\nCenterOfRotation = 0 0 0\n"
        "AnatomicalOrientation = RAI\nElementSpacing = 1.5 1.5 4\n"
        f"DimSize = {dims[0]} {dims[1]} {dims[2]}\nElementType = {etype}\nElementDataFile = LOCAL\n"
    )
    return header.encode() + body


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    derived = os.path.join("io", "derived")
    # NIfTI, uncompressed: the derived fixtures (nibabel-written) and decompressed .nii.gz ones.
    for n in ["bigendian_f64_scaled.nii", "nifti2_scaled.nii", "pixdim_only.nii", "qform_only_lefthanded.nii"]:
        put("nifti", n, read(derived, n))
    for n in ["type_uint8.nii.gz", "type_int32.nii.gz", "fourd.nii.gz", "sform_wins.nii.gz"]:
        put("nifti", n[:-3], gzip.decompress(read(derived, n)))
    # NIfTI, gzip.
    for n in ["type_uint8.nii.gz", "type_float32.nii.gz", "flip_axis1.nii.gz", "fourd.nii.gz", "sform_wins.nii.gz"]:
        put("nifti_gz", n, read(derived, n))
    put("nifti_gz", "standard.nii.gz", read("io", "standard.nii.gz"))
    put("nifti_gz", "oblique_mask.nii.gz", read("formats", "oblique_mask.nii.gz"))
    # DICOM: every transfer syntax of the small MR, a GB18030 one, MONOCHROME1, a truncated file.
    for n in ["MR_small.dcm", "MR_small_RLE.dcm", "MR_small_bigendian.dcm", "MR_small_expb.dcm",
              "MR_small_implicit.dcm", "MR_small_jp2klossless.dcm", "MR_small_jpeg_ls_lossless.dcm"]:
        put("dicom", n, read("io", "dicom", n))
    put("dicom", "gb18030.dcm", read("io", "dicom_derived", "gb18030", "gb.dcm"))
    put("dicom", "mono1.dcm", read("io", "dicom_derived", "mono1", "mono1.dcm"))
    put("dicom", "truncated.dcm", read("io", "dicom_truncated_MR.dcm"))
    # RTSTRUCT / SEG (highdicom- and plastimatch-made fixtures) and malformed ones.
    objs = "dicom_objects"
    put("dicom_objects", "rtstruct_polygons.dcm", read(objs, "rtstruct_polygons.dcm"))
    put("dicom_objects", "seg_binary.dcm", read(objs, "seg_binary.dcm"))
    put("dicom_objects", "seg_no_perframe.dcm", read(objs, "malformed", "seg_no_perframe.dcm"))
    put("dicom_objects", "rtstruct_no_roicontours.dcm", read(objs, "malformed", "rtstruct_no_roicontours.dcm"))
    put("dicom_objects", "seg_implicit_gdcm_abort.dcm", read(objs, "fuzz_found", "seg_implicit_gdcm_abort.dcm"))
    # NRRD (plastimatch and 3D Slicer layouts).
    for n in ["mask_plastimatch.nrrd", "t2_plastimatch.nrrd", "overlap.seg.nrrd", "three_segments.seg.nrrd"]:
        put("nrrd", n, read("formats", n))
    # MetaImage with LOCAL data, raw and compressed.
    mask = bytes((1 if 2 <= i % 8 <= 5 and 2 <= (i // 8) % 8 <= 5 else 0) for i in range(8 * 8 * 4))
    put("metaimage", "mask_uchar.mha", mha((8, 8, 4), "MET_UCHAR", mask))
    put("metaimage", "mask_zlib.mha", mha((8, 8, 4), "MET_UCHAR", mask, compressed=True))
    t2 = struct.pack("<256h", *[(i * 37) % 900 for i in range(256)])
    put("metaimage", "t2_short.mha", mha((8, 8, 4), "MET_SHORT", t2))
    # Masks, one per format; the first byte picks the file name in fuzz_mask.
    put("mask", "0_gtv.nii", b"\x00" + gzip.decompress(read(objs, "gtv.nii.gz")))
    put("mask", "1_phantom.nii.gz", b"\x01" + read("imaging", "phantom_mask.nii.gz"))
    put("mask", "2_plastimatch.nrrd", b"\x02" + read("formats", "mask_plastimatch.nrrd"))
    put("mask", "3_three_segments.seg.nrrd", b"\x03" + read("formats", "three_segments.seg.nrrd"))
    put("mask", "4_mask.mha", b"\x04" + mha((8, 8, 4), "MET_UCHAR", mask))
    # safetensors: the header edge cases and real small checkpoints.
    st = os.path.join(DATA, "safetensors")
    for n in sorted(os.listdir(st)):
        if n.endswith(".safetensors") and os.path.getsize(os.path.join(st, n)) < 4096:
            put("safetensors", n, read("safetensors", n))
    put("safetensors", "pos_embed.safetensors", read("models", "pos_embed.safetensors"))
    put("safetensors", "chinese_bert_io.safetensors", read("pretrained", "chinese_bert_io.safetensors"))
    # CSV: run-folder tables and hand-written quoting / delimiter cases.
    put("csv", "table1.csv", read("report", "run", "table1.csv"))
    put("csv", "history.csv", read("report", "run", "models", "msm", "history.csv"))
    put("csv", "quoted.csv", b'\xef\xbb\xbfid,"name, with comma",note\r\n1,"say ""hi""",NA\r\n2,"two\nlines",  x  \r\n')
    put("csv", "semicolon.csv", b"patient_id;age;stage\nA001;68,5;IB2\nA002;NA;\n")
    # Manifests (the columns of `cervirisk synth` and the clinical schema of the harness).
    head = b"patient_id,center,image,mask,report,event,time_months,age,stage,lvsi\n"
    rows = b"".join(
        b"%s,%s,img/%s.nii.gz,img/%s_mask.nii.gz,ok.txt,%d,%.1f,%d,%s,%s\n"
        % (pid, c, pid, pid, e, t, a, s, l)
        for pid, c, e, t, a, s, l in [
            (b"A001", b"A", 1, 35.7, 68, b"IB1", b"yes"), (b"A002", b"A", 0, 81.3, 35, b"IB2", b"no"),
            (b"B001", b"B", 0, 60.0, 50, b"IIA1", b"no"), (b"C001", b"C", 1, 12.5, 44, b"IB2", b"yes")])
    put("manifest", "manifest.csv", head + rows)
    put("manifest", "bad_values.csv", head + b"A001,A,a.nii.gz,m.nii.gz,ok.txt,2,-1,17,IV,maybe\nA001,A,,,,,,,,\n")
    # Configurations: the documented paper example, a study with every table kind.
    with open(os.path.join(ROOT, "docs", "examples", "paper.toml"), "rb") as f:
        put("config", "paper.toml", f.read())
    put("config", "study.toml", b'[study]\nseed = 7\n[data]\nmanifest = "manifest.csv"\n[split]\n'
        b'external_centers = ["C"]\n[[clinical]]\nname = "age"\ntype = "numeric"\nmin = 18.0\nmax = 95.0\n'
        b'[[clinical]]\nname = "stage"\ntype = "ordinal"\nlevels = ["IB1", "IB2"]\n[train]\nepochs = 3\n'
        b'lr = 1e-3\n[model]\npreset = "paper"\nvariants = ["convnext", "msm_tc"]\n')
    # Reports (the tokenizer goldens' texts) and a vocab.txt.
    import json
    for i, line in enumerate(read("text", "tokenizer_goldens.jsonl").decode().splitlines()[:6]):
        put("tokenizer", f"report_{i}.txt", bytes([i % 3]) + json.loads(line)["text"].encode())
    put("tokenizer", "invalid_utf8.txt", b"\x01\xe5\xae\xab\xe9\xa2\x88 \xc0\xaf \xed\xa0\x80 [MASK]##x")
    put("tokenizer", "vocab.txt", b"\x03" + read("text", "vocab.txt"))
    # Run-folder files (the report fixture run): the first byte picks the file in fuzz_runfolder.
    run = os.path.join("report", "run")
    put("runfolder", "0_metrics.json", b"\x00" + read(run, "metrics.json"))
    put("runfolder", "1_comparisons.csv", b"\x01" + b"variant,reference,cohort,auc,auc_reference,diff,diff_lo,"
        b"diff_hi,p\nclinical,msm_tc,train,0.425,0.9125,-0.4875,-0.796913,-0.178087,0.00201475\n")
    put("runfolder", "2_predictions.csv", b"\x02" + b"\n".join(read(run, "predictions", "msm_tc.csv").splitlines()[:12]) + b"\n")
    put("runfolder", "3_history.csv", b"\x03" + read(run, "models", "msm", "history.csv"))
    put("runfolder", "4_model.json", b"\x04" + read(run, "models", "msm_tc", "model.json"))
    put("runfolder", "5_modality_shapley.csv", b"\x05" + b"\n".join(read(run, "explain", "modality_shapley.csv").splitlines()[:8]) + b"\n")
    put("runfolder", "6_shap_clinical.csv", b"\x06" + b"\n".join(read(run, "explain", "shap_clinical.csv").splitlines()[:6]) + b"\n")
    put("runfolder", "7_examples.json", b"\x07" + read(run, "explain", "examples.json"))
    put("runfolder", "8_run.json", b"\x08" + read(run, "run.json"))
    # Zip uploads: a DICOM series, a traversal name, a symlink entry, a lying size.
    def zipped(entries, symlink=None):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for name, data in entries:
                z.writestr(name, data)
            if symlink:
                info = zipfile.ZipInfo(symlink[0])
                info.external_attr = 0o120777 << 16
                z.writestr(info, symlink[1])
        return buf.getvalue()
    series = [("series/image%04d.dcm" % i, read(objs, "image", "image%04d.dcm" % i)) for i in range(3)]
    put("zip", "series.zip", zipped(series))
    put("zip", "traversal.zip", zipped([("../escape.dcm", b"DICM")]))
    put("zip", "symlink.zip", zipped([("a.dcm", b"x")], symlink=("link", "/etc/passwd")))
    put("zip", "stored.zip", zipped([("dir/", b""), ("dir/b.dcm", b"\x00" * 200)]))

    # HTTP requests to the service (fuzz_http; its token is the harness's kToken).
    token = b"fuzz-token-5f1c2a9e0b7d4c3a8e6f1b2d9c0a7e4f"
    auth = b"Authorization: Bearer " + token + b"\r\n"
    put("http", "healthz.http", b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    put("http", "models.http", b"GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth + b"\r\n")
    put("http", "map.http", b"GET /v1/predictions/0123abcd/maps/gradcam_tumour.png HTTP/1.1\r\nHost: x\r\n" + auth + b"\r\n")
    clinical = (b'{"age": 68, "histology": "SCC", "figo_stage": "IB2", "scc_ag": null, "lvsi": "yes", '
                b'"deep_stromal_invasion": null, "lymph_nodes": "positive", "parametrium": "negative", '
                b'"margin": "negative", "adjuvant_therapy": "CRT"}')

    def form(fields, boundary=b"cervfuzzboundary"):
        body = b""
        for name, filename, data in fields:
            body += b"--" + boundary + b"\r\nContent-Disposition: form-data; name=\"" + name + b"\""
            if filename:
                body += b"; filename=\"" + filename + b"\""
            body += b"\r\nContent-Type: application/octet-stream\r\n\r\n" + data + b"\r\n"
        return body + b"--" + boundary + b"--\r\n", boundary

    def post(variant, fields, extra=b""):
        body, boundary = form(fields)
        return (b"POST /v1/models/" + variant + b"/predict HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth + extra +
                b"Content-Type: multipart/form-data; boundary=" + boundary + b"\r\nContent-Length: " +
                str(len(body)).encode() + b"\r\n\r\n" + body)
    image = read(objs, "image.nii.gz")
    gtv = read(objs, "gtv.nii.gz")
    report = "宫颈后唇见一大小约3.2cm×2.5cm的异常信号影，T2WI呈稍高信号。".encode()
    put("http", "clinical.http", post(b"clinical", [(b"clinical", None, clinical)]))
    put("http", "msm_tc.http", post(b"msm_tc", [(b"image", b"image.nii.gz", image), (b"mask", b"mask.nii.gz", gtv),
                                                 (b"report", None, report), (b"clinical", None, clinical)]))
    put("http", "msm_tc_explain.http", post(b"msm_tc", [(b"image", b"image.nii.gz", image), (b"mask", b"mask.nii.gz", gtv),
                                                         (b"report", None, report), (b"clinical", None, clinical),
                                                         (b"explain", None, b"1")]))
    put("http", "zip_series.http", post(b"msm_tc", [(b"image", b"series.zip", zipped(series)), (b"mask", b"mask.nii.gz", gtv),
                                                     (b"clinical", None, clinical)]))
    body, boundary = form([(b"clinical", None, clinical)])
    put("http", "chunked.http", b"POST /v1/models/clinical/predict HTTP/1.1\r\nHost: x\r\n" + auth +
        b"Content-Type: multipart/form-data; boundary=" + boundary + b"\r\nTransfer-Encoding: chunked\r\n\r\n" +
        b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n")
    put("http", "expect.http", b"POST /v1/models/clinical/predict HTTP/1.1\r\nHost: x\r\n" + auth +
        b"Expect: 100-continue\r\nContent-Encoding: gzip\r\nContent-Length: 20\r\n\r\n" + gzip.compress(b"x" * 1000)[:20])
    # Bundle files (fuzz_bundle): the first byte picks the file of the bundle the input replaces.
    put("bundle", "0_model.json", b"\x00" + read(run, "models", "msm_tc", "model.json"))
    put("bundle", "1_preprocessing.json", b"\x01" + b'{"format": "cervirisk-preprocessing/1", "tumour_size_px": 32}')
    put("bundle", "2_clinical.json", b"\x02" + b'{"columns": [{"name": "age", "type": "numeric", "mean": 50, "sd": 10}]}')
    put("bundle", "3_weights.safetensors", b"\x03" + read("models", "pos_embed.safetensors"))
    put("bundle", "5_vocab.txt", b"\x05" + b"\n".join(read("text", "vocab.txt").splitlines()[:40]) + b"\n")
    put("bundle", "6_tokenizer_config.json", b"\x06" + b'{"do_lower_case": true, "model_max_length": 48}')


if __name__ == "__main__":
    main()
