# Sourced by ./brain2img, ./test.sh and .ci/run: exports JAVA_HOME pointing at a JDK >= 22.
# Order: $JAVA_HOME if new enough, then Temurin 25, then any /usr/lib/jvm/* that is new enough.
_jdk_major() { "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' | head -1; }
_jdk_ok() { [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] && v="$(_jdk_major "$1")" && [ -n "$v" ] && [ "${v%%.*}" -ge 22 ] 2>/dev/null; }
_found=""
for c in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/temurin-25-jdk-arm64 /usr/lib/jvm/*; do
  [ -n "$c" ] || continue
  if _jdk_ok "$c"; then _found="$c"; break; fi
done
if [ -z "$_found" ]; then
  echo "brain2img needs a JDK 22 or newer (25 recommended; the default java here is $(java -version 2>&1 | head -1))." >&2
  echo "Install one, e.g. Temurin 25 (apt-get install temurin-25-jdk from the Adoptium repository), or set JAVA_HOME." >&2
  exit 1
fi
export JAVA_HOME="$_found"
export PATH="$JAVA_HOME/bin:$PATH"
