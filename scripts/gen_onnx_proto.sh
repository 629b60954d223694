#!/usr/bin/env bash
# Regenerates Sources/NTrainEngine/Interop/ONNX/onnx.pb.swift from scripts/onnx/onnx.proto (copied
# from the onnx wheel, onnx 1.23.2) with apple/swift-protobuf 1.39.0's protoc-gen-swift. CI does not
# run this: the generated file is committed.
#   apt-get install protobuf-compiler
#   git clone --branch 1.39.0 https://github.com/apple/swift-protobuf /tmp/swift-protobuf
#   (cd /tmp/swift-protobuf && swift build -c release --product protoc-gen-swift)
#   PROTOC_GEN_SWIFT=/tmp/swift-protobuf/.build/release/protoc-gen-swift scripts/gen_onnx_proto.sh
set -euo pipefail
cd "$(dirname "$0")/.."
plugin=${PROTOC_GEN_SWIFT:-/tmp/swift-protobuf/.build/release/protoc-gen-swift}
protoc --plugin=protoc-gen-swift="$plugin" --swift_opt=Visibility=Public \
  --swift_out=Sources/NTrainEngine/Interop/ONNX -Iscripts/onnx scripts/onnx/onnx.proto
