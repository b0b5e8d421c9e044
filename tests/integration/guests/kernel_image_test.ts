/**
 * Images from real Debian packages: the kernel apt offers now, its config and modules, and initramfs builds that
 * are cached by content and rebuilt only when an input changes.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { InputError } from "../../../lib/core/errors.ts";
import {
  buildGuestImage,
  buildInitramfs,
  fetchKernel,
  GUEST_BASE_MODULES,
  kernelConfigValue,
  resolveKernelPackage,
  resolveModules,
} from "../../../lib/lab/guests_mod.ts";
import { skipIf, tempDir } from "../../_helpers.ts";
import { needGuestTools } from "./_guest_env.ts";

async function listCpioGz(path: string): Promise<string[]> {
  const r = await new Deno.Command("sh", { args: ["-c", `zcat '${path}' | cpio -t --quiet`], stdout: "piped" })
    .output();
  return new TextDecoder().decode(r.stdout).split("\n").filter(Boolean);
}

Deno.test({
  name: "kernel: the current Debian linux-image is unpacked into the cache with an ELF vmlinux, config and modules",
  ignore: skipIf(needGuestTools()),
  async fn() {
    const pkg = await resolveKernelPackage();
    assert.match(pkg, /^linux-image-\d+\.\d+\.\d+-\d+-amd64$/);
    const k = await fetchKernel();
    assert.equal(k.package, pkg);
    assert.match(k.dir, /\.hyperlab\/cache\/kernel\//);
    assert.ok(k.vmlinux, "xz payload unpacked");
    const head = new Uint8Array(4);
    using f = await Deno.open(k.vmlinux);
    await f.read(head);
    assert.deepEqual([...head], [0x7f, 0x45, 0x4c, 0x46]);
    // What the guest needs: virtio as modules (so they go into the initramfs), CPU/memory hotplug and IOMMU built in.
    assert.equal(await kernelConfigValue(k, "VIRTIO_NET"), "m");
    assert.equal(await kernelConfigValue(k, "VIRTIO_BLK"), "m");
    assert.equal(await kernelConfigValue(k, "ACPI_HOTPLUG_CPU"), "y");
    assert.equal(await kernelConfigValue(k, "INTEL_IOMMU"), "y");
    assert.equal(await kernelConfigValue(k, "NO_SUCH_OPTION"), null);

    const mods = (await resolveModules(k, [...GUEST_BASE_MODULES, "nbd", "8250"])).map((m) => m.name);
    for (
      const [dep, user] of [["virtio", "virtio_pci"], ["virtio_ring", "virtio_net"], ["net_failover", "virtio_net"]]
    ) {
      assert.ok(mods.indexOf(dep) >= 0 && mods.indexOf(dep) < mods.indexOf(user), `${dep} before ${user}: ${mods}`);
    }
    assert.ok(mods.includes("nbd"));
    assert.ok(!mods.includes("8250"), "built-in modules are skipped");
    await assert.rejects(
      resolveModules(k, ["virtio_net", "no_such_module"]),
      (e: unknown) => e instanceof InputError && e.field === "modules[1]",
    );
  },
});

Deno.test({
  name: "initramfs: programs come with their ldd libraries; builds are cached by content and redone on change",
  ignore: skipIf(needGuestTools()),
  async fn() {
    using tmp = tempDir();
    const prev = Deno.env.get("HYPERLAB_CACHE");
    Deno.env.set("HYPERLAB_CACHE", join(tmp.path, "cache"));
    try {
      const src = join(tmp.path, "motd");
      await Deno.writeTextFile(src, "one\n");
      const spec = {
        init: "#!/bin/sh\necho hi\n",
        programs: ["/usr/sbin/dropbear"],
        files: [{ path: "/etc/motd", source: src }, { path: "/etc/hostname", content: "g\n" }],
        symlinks: [{ path: "/sbin/init", target: "/init" }],
      };
      const a = await buildInitramfs(spec);
      assert.equal(a.cached, false);
      const b = await buildInitramfs(spec);
      assert.equal(b.cached, true);
      assert.equal(b.path, a.path);
      await Deno.writeTextFile(src, "two\n");
      const c = await buildInitramfs(spec);
      assert.equal(c.cached, false);
      assert.notEqual(c.hash, a.hash);

      const names = await listCpioGz(c.path);
      for (const n of ["init", "bin/busybox", "bin/sh", "sbin/ip", "usr/sbin/dropbear", "etc/motd", "sbin/init"]) {
        assert.ok(names.includes(n), `${n} in image`);
      }
      assert.ok(names.some((n) => /^lib\/x86_64-linux-gnu\/libc\.so\.6$/.test(n)), "libc from ldd");
      assert.ok(names.includes("lib64/ld-linux-x86-64.so.2"), "dynamic loader from ldd");
      assert.ok(names.includes("dev/console"));

      await assert.rejects(
        buildInitramfs({ ...spec, files: [{ path: "/etc/x", source: join(tmp.path, "missing") }] }),
        (e: unknown) => e instanceof InputError && e.field === "files[0].source",
      );
      await assert.rejects(
        buildInitramfs({ init: "echo no shebang" }),
        (e: unknown) => e instanceof InputError && e.field === "init",
      );
      await assert.rejects(
        buildInitramfs({ init: "#!/bin/sh\n", programs: ["relative/prog"] }),
        (e: unknown) => e instanceof InputError && e.field === "programs[0]",
      );
      await assert.rejects(
        buildInitramfs({ init: "#!/bin/sh\n", modules: ["virtio_net"] }),
        (e: unknown) => e instanceof InputError && e.field === "kernel",
      );
    } finally {
      if (prev === undefined) Deno.env.delete("HYPERLAB_CACHE");
      else Deno.env.set("HYPERLAB_CACHE", prev);
    }
  },
});

Deno.test({
  name: "guest image: dropbear, keys, virtio modules and markers; the second build comes from the cache",
  ignore: skipIf(needGuestTools()),
  async fn() {
    const img = await buildGuestImage();
    const again = await buildGuestImage();
    assert.equal(again.initramfs.cached, true);
    assert.equal(again.initramfs.hash, img.initramfs.hash);
    const names = await listCpioGz(img.initramfs.path);
    for (const n of ["usr/sbin/dropbear", "etc/dropbear/dropbear_ed25519_host_key", "root/.ssh/authorized_keys"]) {
      assert.ok(names.includes(n), n);
    }
    for (const m of ["virtio_net", "virtio_blk", "virtio_pci", "failover"]) {
      assert.ok(names.includes(`lib/modules/${m}.ko`), m);
    }
    assert.match(img.keys.hostPublic, /^ssh-ed25519 \S+$/);
    assert.match(img.keys.clientPublic, /^ssh-ed25519 \S+ hyperlab-guest$/);
    await assert.rejects(
      buildGuestImage({ modules: ["bad name"] }),
      (e: unknown) => e instanceof InputError && e.field === "modules[0]",
    );
  },
});
