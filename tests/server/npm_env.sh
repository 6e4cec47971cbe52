# Sourced by the server test scripts: installs the npm packages they use into the build folder
# (once) and sets NPM_DIR to a folder whose node_modules has them.
NPM_DIR="$BUILD_DIR/npm-server"
if [ ! -d "$NPM_DIR/node_modules/openai" ]; then
  mkdir -p "$NPM_DIR"
  (cd "$NPM_DIR" && echo '{"name":"a3b-server-tests","private":true,"type":"module"}' > package.json &&
    npm install --no-audit --no-fund --silent openai@6 >/dev/null 2>&1) || { echo "npm install openai failed" >&2; exit 1; }
fi
cp "$(dirname "${BASH_SOURCE[0]}")"/*.mjs "$NPM_DIR/"
