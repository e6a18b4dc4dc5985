#!/usr/bin/env bash
# codegen.sh - regenerate the reference server stubs in generated/ from specs/*.yaml
#
# What it does
#   For every OpenAPI 3 document directly under specs/ (files named *.yaml whose
#   top-level key is `openapi: 3.x`; sub-folders such as specs/etsi-differences/
#   and non-OpenAPI files are skipped), it runs the pinned openapi-generator-cli
#   (PyPI package openapi-generator-cli==7.26.0, which ships the generator jar and
#   needs a Java 11+ runtime; we use Java 17) with the `python-flask` generator and
#   `useConnexion3=true`, and writes the result to generated/<spec-name>/ as the
#   Python package <spec-name>_gen (e.g. specs/mec011_service_mgmt.yaml ->
#   generated/mec011_service_mgmt/mec011_service_mgmt_gen/).
#
#   Only the parts worth reading are kept: controllers/, models/, openapi/openapi.yaml
#   (the generator's normalised copy of the spec, with snake_cased operationIds),
#   util.py, typing_utils.py and the __init__.py files. Everything else the generator
#   emits (Dockerfile, setup.py, tox.ini, tests, git_push.sh, CI files, README,
#   __main__.py, encoder.py, .openapi-generator/ metadata with its version stamp) is
#   left out, so the output has no timestamps, absolute paths or version noise and
#   is byte-for-byte reproducible. Generation is fully offline.
#
# Why generated code is reference-only
#   The platform does not run these controllers. connexion is routed to our own
#   hand-written handlers in mec_platform/http/ by a custom resolver; the generated
#   controllers only serve as a signature reference. A contract test compares each
#   handler's parameters with the generated controller function of the same
#   operation, so a spec change that alters a signature fails CI until the handler
#   follows. Never edit generated/ by hand: change the spec and rerun this script.
#
# Usage
#   ./codegen.sh           regenerate generated/ in place (stale files are removed)
#   ./codegen.sh --check   regenerate into a temporary folder and compare with
#                          generated/; exit 1 with a diff naming the files if they
#                          differ, exit 0 when in sync (for CI)
#
#   Works from any working directory. Uses the openapi-generator-cli found on PATH,
#   else <repo>/.venv/bin/openapi-generator-cli; it must report version 7.26.0.
set -euo pipefail

readonly GENERATOR_VERSION="7.26.0"
readonly GENERATOR_NAME="python-flask"
readonly MIN_JAVA_MAJOR=11
readonly MAX_DIFF_LINES=400

REPO_ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)"
readonly REPO_ROOT
readonly SPECS_DIR="${REPO_ROOT}/specs"
readonly OUT_DIR="${REPO_ROOT}/generated"

# Fixed locale, time zone, umask and Java file encoding so that neither sorting,
# non-ASCII text in the specs nor file modes depend on the caller's environment.
export LC_ALL=C.UTF-8 TZ=UTC
# The PyPI wrapper passes JAVA_OPTS to java as a single argument, so keep it to one.
export JAVA_OPTS="-Dfile.encoding=UTF-8"
umask 022

die() {
    printf 'codegen.sh: error: %s\n' "$*" >&2
    exit 2
}

usage() {
    sed -n '/^# Usage/,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
}

find_generator() {
    if command -v openapi-generator-cli >/dev/null 2>&1; then
        command -v openapi-generator-cli
    elif [[ -x "${REPO_ROOT}/.venv/bin/openapi-generator-cli" ]]; then
        printf '%s\n' "${REPO_ROOT}/.venv/bin/openapi-generator-cli"
    else
        die "openapi-generator-cli not found on PATH nor in ${REPO_ROOT}/.venv/bin;" \
            "install it with: pip install openapi-generator-cli==${GENERATOR_VERSION}"
    fi
}

check_java() {
    command -v java >/dev/null 2>&1 \
        || die "java not found on PATH; openapi-generator-cli needs a Java ${MIN_JAVA_MAJOR}+" \
               "runtime (e.g. apt-get install openjdk-17-jre-headless)"
    local version major
    version="$(java -version 2>&1 | awk -F'"' '/version/ {print $2; exit}')"
    major="${version%%.*}"
    [[ "${major}" == "1" ]] && major="$(cut -d. -f2 <<<"${version}")"
    [[ "${major}" =~ ^[0-9]+$ && "${major}" -ge "${MIN_JAVA_MAJOR}" ]] \
        || die "java ${version:-of unknown version} found; openapi-generator-cli needs Java ${MIN_JAVA_MAJOR}+"
}

check_generator_version() {
    local generator="$1" version
    version="$("${generator}" version 2>/dev/null | tail -n 1 || true)"
    [[ "${version}" == "${GENERATOR_VERSION}" ]] \
        || die "${generator} reports version '${version}', expected ${GENERATOR_VERSION}" \
               "(pinned so that generated/ is reproducible)"
}

is_openapi_document() {
    grep -Eq "^openapi:[[:space:]]*[\"']?3\." "$1"
}

package_name_for() {
    local name
    name="$(tr '[:upper:]' '[:lower:]' <<<"$1" | tr -c 'a-z0-9\n' '_')"
    [[ "${name}" =~ ^[a-z_] ]] || name="api_${name}"
    printf '%s_gen\n' "${name}"
}

# generate_one <generator> <spec file> <stage dir> <scratch dir>
generate_one() {
    local generator="$1" spec="$2" stage="$3" scratch="$4"
    local name package raw log
    name="$(basename -- "${spec}" .yaml)"
    package="$(package_name_for "${name}")"
    raw="${scratch}/raw/${name}"
    log="${scratch}/${name}.log"

    # Files we never want: project scaffolding, tests, the stub server entry point.
    local ignore_list
    ignore_list=".dockerignore,.gitignore,.travis.yml,Dockerfile,README.md,git_push.sh"
    ignore_list+=",requirements.txt,test-requirements.txt,setup.py,tox.ini"
    ignore_list+=",${package}/test/**,${package}/__main__.py,${package}/encoder.py"

    if ! "${generator}" generate \
            --generator-name "${GENERATOR_NAME}" \
            --input-spec "${spec}" \
            --output "${raw}" \
            --additional-properties "useConnexion3=true,packageName=${package}" \
            --global-property "apiTests=false,modelTests=false,apiDocs=false,modelDocs=false" \
            --openapi-generator-ignore-list "${ignore_list}" \
            >"${log}" 2>&1; then
        cat -- "${log}" >&2
        die "openapi-generator-cli failed for ${spec#"${REPO_ROOT}/"}"
    fi

    # Keep only the package; drop .openapi-generator/ (version stamp) and the
    # generated .openapi-generator-ignore (its entry order is not stable).
    mkdir -p -- "${stage}/${name}/${package}"
    local keep
    for keep in __init__.py util.py typing_utils.py controllers models openapi; do
        [[ -e "${raw}/${package}/${keep}" ]] \
            || die "expected ${package}/${keep} in the generator output for ${name}"
        cp -R -- "${raw}/${package}/${keep}" "${stage}/${name}/${package}/"
    done
}

write_readme() {
    local stage="$1"
    shift
    {
        printf '# generated/ - output of ../codegen.sh, do not edit\n\n'
        printf 'Reference stubs made by openapi-generator %s (%s, useConnexion3=true)\n' \
            "${GENERATOR_VERSION}" "${GENERATOR_NAME}"
        printf 'from the OpenAPI documents in specs/. The platform never runs them: connexion\n'
        printf 'is routed to the hand-written handlers in mec_platform/http/, and a contract test\n'
        printf 'compares those handlers with the controller signatures here. To change anything,\n'
        printf 'edit the spec and run ./codegen.sh; CI runs ./codegen.sh --check.\n\n'
        local name
        for name in "$@"; do
            printf -- '- %s/ <- specs/%s.yaml (package %s)\n' \
                "${name}" "${name}" "$(package_name_for "${name}")"
        done
    } >"${stage}/README.md"
}

# compare <scratch dir>: diff committed generated/ with the fresh stage; 0 if equal
compare() {
    local scratch="$1" summary
    if [[ -d "${OUT_DIR}" ]]; then
        ln -s -- "${OUT_DIR}" "${scratch}/committed"
    else
        mkdir -- "${scratch}/committed"
    fi
    local -a excludes=(-x __pycache__ -x '*.pyc')
    if summary="$(cd -- "${scratch}" && diff -rq "${excludes[@]}" committed regenerated)"; then
        echo "codegen.sh: generated/ is in sync with specs/"
        return 0
    fi
    {
        echo "codegen.sh: generated/ is out of date; run ./codegen.sh and commit the result."
        echo "Differing files (committed = generated/, regenerated = fresh output):"
        printf '  %s\n' "${summary//$'\n'/$'\n  '}"
        echo
        (cd -- "${scratch}" && diff -ruN "${excludes[@]}" committed regenerated || true) \
            >"${scratch}/full.diff"
        head -n "${MAX_DIFF_LINES}" -- "${scratch}/full.diff"
        local total
        total="$(wc -l <"${scratch}/full.diff")"
        if ((total > MAX_DIFF_LINES)); then
            echo "... diff truncated (${total} lines in all)"
        fi
    } >&2
    return 1
}

main() {
    local mode="write"
    case "${1-}" in
        "") ;;
        --check) mode="check" ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $1" ;;
    esac
    (($# <= 1)) || die "too many arguments"

    [[ -d "${SPECS_DIR}" ]] || die "no specs/ folder at ${SPECS_DIR}"
    local generator
    generator="$(find_generator)"
    check_java
    check_generator_version "${generator}"

    local scratch
    scratch="$(mktemp -d "${TMPDIR:-/tmp}/codegen.XXXXXX")"
    # shellcheck disable=SC2064  # expand now: scratch is local
    trap "rm -rf -- '${scratch}'" EXIT
    local stage="${scratch}/regenerated"
    mkdir -p -- "${stage}"

    local spec
    local -a names=()
    shopt -s nullglob
    for spec in "${SPECS_DIR}"/*.yaml; do
        if ! is_openapi_document "${spec}"; then
            echo "codegen.sh: skipping ${spec#"${REPO_ROOT}/"} (not an OpenAPI 3 document)" >&2
            continue
        fi
        generate_one "${generator}" "${spec}" "${stage}" "${scratch}"
        names+=("$(basename -- "${spec}" .yaml)")
    done
    shopt -u nullglob
    ((${#names[@]} > 0)) || echo "codegen.sh: warning: no OpenAPI documents in specs/" >&2
    write_readme "${stage}" "${names[@]}"

    if [[ "${mode}" == "check" ]]; then
        compare "${scratch}" || exit 1
        return 0
    fi
    rm -rf -- "${OUT_DIR}"
    mkdir -p -- "${OUT_DIR}"
    cp -R -- "${stage}/." "${OUT_DIR}/"
    echo "codegen.sh: wrote generated/ from ${#names[@]} spec(s): ${names[*]}"
}

main "$@"
