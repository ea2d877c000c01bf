# Sourced by the deploy tests after tests/lib.sh: a git work tree of the
# sample monorepo with a bare remote.

# setup_monorepo WORKDIR BARE_REPO_PATH [URL]: copy the sample monorepo to
# WORKDIR, commit it on main and push it to a new bare repository (the
# remote "origin", URL defaults to file://BARE_REPO_PATH).
setup_monorepo() {
	cp -r "$TOP/tests/data/deploy/monorepo" "$1"
	git init -q --bare -b main "$2"
	(cd "$1" && git init -q -b main && git add -A &&
		git commit -q -m "monorepo" &&
		git remote add origin "${3:-file://$2}" &&
		git push -q "$2" main &&
		git fetch -q origin 2>/dev/null || true)
}

# clone_remote URL DIR: a second clone, as a colleague would have.
clone_remote() {
	git clone -q "$1" "$2" 2>/dev/null
}
