#!/usr/bin/env bash
# The image recipe (deploy/Dockerfile) installs a package for every shared library the causeway
# binary links, installs no -dev package at run time, and names only packages Debian 12 has.
#   tests/helm/image_recipe_test.sh CAUSEWAY_BINARY DOCKERFILE
set -euo pipefail
binary=$1
dockerfile=$2

# ARG RUNTIME_PACKAGES="a b \
# c d"
listed=$(sed -n '/^ARG RUNTIME_PACKAGES="/,/"$/p' "$dockerfile" |
  sed 's/^ARG RUNTIME_PACKAGES="//; s/["\\]//g' | tr -s ' \n' '\n' | sed '/^$/d')
if [ -z "$listed" ]; then
  echo "FAIL: no ARG RUNTIME_PACKAGES=\"...\" in $dockerfile"
  exit 1
fi

problems=0
# The libraries causeway links (sanitizer runtimes of an ASan build aside) and where they are.
declare -A path_of
for lib in $(readelf -d "$binary" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
  case $lib in libasan.* | libubsan.* | liblsan.* | libtsan.*) continue ;; esac
  path_of[$lib]=$(ldconfig -p | awk -v lib="$lib" '!found && $1 == lib { print $NF; found = 1 }')
done
# Their packages, in one dpkg query (usrmerge: dpkg may know a file under /lib or /usr/lib).
candidates=()
for lib in "${!path_of[@]}"; do
  path=${path_of[$lib]}
  [ -n "$path" ] && candidates+=("$path" "${path#/usr}" "/usr${path#/usr}" "$(readlink -f "$path")")
done
owners=$(dpkg -S "${candidates[@]}" 2>/dev/null || true)
for lib in "${!path_of[@]}"; do
  if [ -z "${path_of[$lib]}" ]; then
    echo "FAIL: $lib (needed by $binary) is not known to ldconfig"
    problems=1
    continue
  fi
  # "libfmt9:amd64: /usr/lib/x86_64-linux-gnu/libfmt.so.9" (the architecture only sometimes)
  package=$(awk -v tail="/$lib" -F': ' '!found && substr($2, length($2) - length(tail) + 1) == tail {
      sub(/:[a-z0-9_]+$/, "", $1); print $1; found = 1 }' <<<"$owners")
  if [ -z "$package" ]; then
    echo "FAIL: no Debian package owns ${path_of[$lib]} ($lib)"
    problems=1
  elif ! grep -qx "$package" <<<"$listed"; then
    echo "FAIL: causeway links $lib from the package $package, which RUNTIME_PACKAGES in $dockerfile lacks"
    problems=1
  fi
done
libraries=${#path_of[@]}
for package in $listed; do
  case $package in
  *-dev) echo "FAIL: $package is a development package; the runtime stage needs none" && problems=1 ;;
  esac
done
# Every listed name is a Debian 12 package (when the apt lists are there to ask).
# apt-cache policy prints a block "NAME:" for each package it knows, in one run.
if apt-cache show libc6 >/dev/null 2>&1; then
  known=$(apt-cache policy $listed 2>/dev/null | sed -n 's/^\([^ ].*\):$/\1/p')
  for package in $listed; do
    if ! grep -qx "$package" <<<"$known"; then
      echo "FAIL: apt-cache knows no package $package"
      problems=1
    fi
  done
fi
if [ "$problems" -ne 0 ]; then
  exit 1
fi
echo "image recipe: $libraries libraries linked, each from one of the $(wc -w <<<"$listed") runtime packages"
