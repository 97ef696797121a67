class Mpx < Formula
  desc "Export Mixpanel events and user profiles into DuckDB, or stream them as JSONL"
  homepage "https://www.npmjs.com/package/mpx-mixpanel"
  url "https://registry.npmjs.org/mpx-mixpanel/-/mpx-mixpanel-0.1.0.tgz"
  sha256 "0000000000000000000000000000000000000000000000000000000000000000"
  license "MIT"

  depends_on "node"

  def install
    system "npm", "install", *std_npm_args
    bin.install_symlink Dir["#{libexec}/bin/*"]

    # oclif's autocomplete plugin writes self-contained completion scripts into its cache directory.
    ENV["MPX_CACHE_DIR"] = buildpath/"oclif-cache"
    system bin/"mpx", "autocomplete", "--refresh-cache"
    bash_completion.install buildpath/"oclif-cache/autocomplete/functions/bash/mpx.bash" => "mpx"
    zsh_completion.install buildpath/"oclif-cache/autocomplete/functions/zsh/_mpx"
  end

  test do
    assert_match "mpx-mixpanel/#{version}", shell_output("#{bin}/mpx --version")
    assert_match "mpx fetch:events FROM TO [TABLE]", shell_output("#{bin}/mpx fetch:events --help")
    output = shell_output("#{bin}/mpx fetch:events 2024-01-01 2024-01-02 --stdout 2>&1", 3)
    assert_match "No Mixpanel credentials", output
  end
end
