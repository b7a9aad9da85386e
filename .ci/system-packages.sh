#!/usr/bin/env bash
# Install the Debian/Ubuntu packages mlcourse needs, if they are missing and we can (root or sudo).
#   python3-venv            when `python3 -m venv` cannot bootstrap pip (plain Debian/Ubuntu)
#   dataset-fashion-mnist   the Fashion-MNIST files, offline, in /usr/share/datasets/fashion-mnist
#   chromium                headless browser: the tests look at the report page and TensorBoard
set -euo pipefail
python=${PYTHON:-python3}
needed=()
if ! "$python" -c "import ensurepip, venv" >/dev/null 2>&1; then
  needed+=("python3-venv")
fi
if [ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
  needed+=("dataset-fashion-mnist")
fi
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
  needed+=("chromium")
fi
[ ${#needed[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "note: no apt-get here; install ${needed[*]} yourself (Fashion-MNIST: \`mlcourse data prepare --download\`)" >&2
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "note: not root and no sudo; please run: apt-get install -y ${needed[*]}" >&2; exit 0; fi
fi
echo "installing system packages: ${needed[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${needed[@]}"
