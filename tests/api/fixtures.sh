#!/usr/bin/env bash
# tests/api/fixtures.sh DIR - generate the files the import tests
# (84-vdisks.t, 85-imports.t) download from build/tests/fixtured. Nothing
# is downloaded: every file is made here with coreutils, tar and gzip,
# deterministically but for template-big.tgz (random data).
#
#   disk.img           1 MiB, a known text pattern
#   tiny.iso           64 KiB with an ISO 9660 primary volume descriptor
#                      ("\1CD001\1" at byte 32768)
#   big.img            20 MiB of zeros (sparse here): over import_max_size
#   template.tgz       an Oracle VM template: OVM_OL7U9_x86_64_PVHVM/ with
#                      vm.cfg (HVM with PV drivers, 2/4 vCPUs, 2048/4096
#                      MiB), System.img, u01.img and an empty CD-ROM
#   template-big.tgz   a template whose disk is 1 MiB of incompressible
#                      data: slow enough through /slow/ to abort
#   template-pv.tgz.0, .1
#                      a PV template (pygrub) cut in two parts
#   novmcfg.tgz, twocfg.tgz, missingdisk.tgz
#                      packages that are not templates
#   evil-dotdot.tgz, evil-abs.tar, evil-link.tgz
#                      archives with a '../' entry, an absolute path, a
#                      symbolic link pointing out
#   app.ova            an OVF 1.x assembly (one VM web-1: 2 vCPUs, 1024
#                      MiB, one disk, one network) = app.ovf + app-disk1.img,
#                      also served on their own for the .ovf import
set -eu

dir=${1:?usage: fixtures.sh DIR}
mkdir -p "$dir"
cd "$dir"
export LC_ALL=C
# Reproducible archives.
TAR=(tar --owner=0 --group=0 --numeric-owner --mtime=@1600000000 --sort=name)

pattern() { # pattern TEXT BYTES > file
    yes "$1" | head -c "$2"
}

pattern 'ovmm-fixture-disk.img-0123456789abcdef' 1048576 >disk.img

head -c 65536 /dev/zero >tiny.iso
printf '\001CD001\001\000OVMM-FIXTURE' |
    dd of=tiny.iso bs=1 seek=32768 conv=notrunc status=none
printf 'OVMM_TEST_ISO' | dd of=tiny.iso bs=1 seek=32808 conv=notrunc status=none
printf '\377CD001\001' | dd of=tiny.iso bs=1 seek=34816 conv=notrunc status=none

rm -f big.img
truncate -s 20M big.img

# ---- templates ----
rm -rf t && mkdir -p t/OVM_OL7U9_x86_64_PVHVM
cat >t/OVM_OL7U9_x86_64_PVHVM/vm.cfg <<'EOF'
# Oracle VM template configuration (test fixture)
OVM_simple_name = 'OVM_OL7U9_x86_64_PVHVM'
OVM_os_type = 'Oracle Linux 7'
OVM_description = 'Oracle Linux 7 Update 9 x86_64, PVHVM'
OVM_cpu_compat_group = ''
OVM_high_availability = False
name = 'OVM_OL7U9_x86_64_PVHVM'
uuid = '7d5b2a4f-8c1e-4e2b-9a3f-0c6d1e2f3a4b'
builder = 'hvm'
guest_os_type = 'linux'
xen_platform_pci = 1
memory = 2048
maxmem = 4096
vcpus = 2
maxvcpus = 4
cpu_weight = 27500
cpu_cap = 0
boot = 'dc'
disk = ['file:/OVS/seed_pool/OVM_OL7U9_x86_64_PVHVM/System.img,xvda,w',
        'file:/OVS/seed_pool/OVM_OL7U9_x86_64_PVHVM/u01.img,xvdb,w',
        ',hdc:cdrom,r',
       ]
vif = ['type=netfront,bridge=xenbr0']
vfb = ['type=vnc,vncunused=1,vnclisten=127.0.0.1,keymap=en-us']
on_poweroff = 'destroy'
on_reboot = 'restart'
on_crash = 'restart'
EOF
pattern 'ovmm-fixture-System.img-PVHVM' 524288 >t/OVM_OL7U9_x86_64_PVHVM/System.img
pattern 'ovmm-fixture-u01.img-data' 262144 >t/OVM_OL7U9_x86_64_PVHVM/u01.img
printf 'Oracle VM template (test fixture)\n' >t/OVM_OL7U9_x86_64_PVHVM/README
(cd t && "${TAR[@]}" -czf ../template.tgz OVM_OL7U9_x86_64_PVHVM)
cp t/OVM_OL7U9_x86_64_PVHVM/System.img template-System.img
cp t/OVM_OL7U9_x86_64_PVHVM/u01.img template-u01.img

rm -rf t && mkdir -p t/OVM_OL6U10_x86_64_PVM
cat >t/OVM_OL6U10_x86_64_PVM/vm.cfg <<'EOF'
OVM_simple_name = 'OVM OL6U10 x86_64 PVM'
OVM_os_type = 'Oracle Linux 6'
OVM_high_availability = True
name = 'OVM_OL6U10_x86_64_PVM'
bootloader = '/usr/bin/pygrub'
memory = 1024
vcpus = 1
disk = ['file:/OVS/seed_pool/OVM_OL6U10_x86_64_PVM/System.img,xvda,w']
vif = ['bridge=xenbr0']
on_crash = 'restart'
EOF
pattern 'ovmm-fixture-System.img-PVM' 786432 >t/OVM_OL6U10_x86_64_PVM/System.img
(cd t && "${TAR[@]}" -czf ../template-pv.tgz OVM_OL6U10_x86_64_PVM)
cp t/OVM_OL6U10_x86_64_PVM/System.img template-pv-System.img
# Two parts: the first half and the rest.
size=$(stat -c %s template-pv.tgz)
head -c $((size / 2)) template-pv.tgz >template-pv.tgz.0
tail -c +$((size / 2 + 1)) template-pv.tgz >template-pv.tgz.1
rm -f template-pv.tgz

# Incompressible (random, the one file that is not deterministic): slow to
# trickle through /slow/.
rm -rf t && mkdir -p t/BIG
printf "OVM_simple_name = 'big'\nmemory = 512\ndisk = ['file:/x/System.img,xvda,w']\n" >t/BIG/vm.cfg
head -c 1048576 /dev/urandom >t/BIG/System.img
(cd t && "${TAR[@]}" -czf ../template-big.tgz BIG)

# Not templates.
rm -rf t && mkdir -p t/a t/b
pattern 'ovmm-fixture-lonely' 65536 >t/a/System.img
(cd t && "${TAR[@]}" -czf ../novmcfg.tgz a)
printf "name = 'one'\nmemory = 512\n" >t/a/vm.cfg
printf "name = 'two'\nmemory = 512\n" >t/b/vm.cfg
(cd t && "${TAR[@]}" -czf ../twocfg.tgz a b)
rm -rf t && mkdir -p t/m
printf "name = 'missing'\nmemory = 512\ndisk = ['file:/x/System.img,xvda,w', 'file:/x/Other.img,xvdb,w']\n" >t/m/vm.cfg
pattern 'ovmm-fixture-half' 65536 >t/m/System.img
(cd t && "${TAR[@]}" -czf ../missingdisk.tgz m)

# Malicious archives: GNU tar keeps leading '/' and '../' with -P.
rm -rf t && mkdir -p t/x
printf "name = 'evil'\nmemory = 512\ndisk = ['file:/x/evil.img,xvda,w']\n" >t/x/vm.cfg
pattern 'ovmm-fixture-evil' 4096 >t/x/evil.img
(cd t && "${TAR[@]}" -P --transform 's,^x/evil.img$,../evil.img,' \
    -czf ../evil-dotdot.tgz x/vm.cfg x/evil.img)
(cd t && "${TAR[@]}" -P --transform 's,^x/evil.img$,/tmp/ovmm-evil.img,' \
    -cf ../evil-abs.tar x/vm.cfg x/evil.img)
ln -s /etc/passwd t/x/passwd.img
(cd t && "${TAR[@]}" -czf ../evil-link.tgz x/vm.cfg x/passwd.img)
rm -rf t

# ---- assembly ----
pattern 'ovmm-fixture-app-disk1' 524288 >app-disk1.img
cat >app.ovf <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1"
          xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1"
          xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData"
          xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData"
          xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <References>
    <File ovf:id="file1" ovf:href="app-disk1.img" ovf:size="524288"/>
  </References>
  <DiskSection>
    <Info>Virtual disk information</Info>
    <Disk ovf:diskId="vmdisk1" ovf:fileRef="file1" ovf:capacity="1"
          ovf:capacityAllocationUnits="byte * 2^20"
          ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#sparse"/>
  </DiskSection>
  <NetworkSection>
    <Info>The list of logical networks</Info>
    <Network ovf:name="VM Network">
      <Description>The VM Network network</Description>
    </Network>
  </NetworkSection>
  <VirtualSystem ovf:id="web-1">
    <Info>A virtual machine</Info>
    <Name>web-1</Name>
    <OperatingSystemSection ovf:id="101">
      <Info>The kind of installed guest operating system</Info>
      <Description>Oracle Linux 7 (64-bit)</Description>
    </OperatingSystemSection>
    <VirtualHardwareSection>
      <Info>Virtual hardware requirements</Info>
      <System>
        <vssd:ElementName>Virtual Hardware Family</vssd:ElementName>
        <vssd:InstanceID>0</vssd:InstanceID>
        <vssd:VirtualSystemIdentifier>web-1</vssd:VirtualSystemIdentifier>
        <vssd:VirtualSystemType>xen-3</vssd:VirtualSystemType>
      </System>
      <Item>
        <rasd:AllocationUnits>hertz * 10^6</rasd:AllocationUnits>
        <rasd:Description>Number of Virtual CPUs</rasd:Description>
        <rasd:ElementName>2 virtual CPU(s)</rasd:ElementName>
        <rasd:InstanceID>1</rasd:InstanceID>
        <rasd:ResourceType>3</rasd:ResourceType>
        <rasd:VirtualQuantity>2</rasd:VirtualQuantity>
      </Item>
      <Item>
        <rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits>
        <rasd:Description>Memory Size</rasd:Description>
        <rasd:ElementName>1024MB of memory</rasd:ElementName>
        <rasd:InstanceID>2</rasd:InstanceID>
        <rasd:ResourceType>4</rasd:ResourceType>
        <rasd:VirtualQuantity>1024</rasd:VirtualQuantity>
      </Item>
      <Item>
        <rasd:Address>0</rasd:Address>
        <rasd:Description>IDE Controller</rasd:Description>
        <rasd:ElementName>ideController0</rasd:ElementName>
        <rasd:InstanceID>3</rasd:InstanceID>
        <rasd:ResourceType>5</rasd:ResourceType>
      </Item>
      <Item>
        <rasd:AddressOnParent>0</rasd:AddressOnParent>
        <rasd:ElementName>disk0</rasd:ElementName>
        <rasd:HostResource>ovf:/disk/vmdisk1</rasd:HostResource>
        <rasd:InstanceID>4</rasd:InstanceID>
        <rasd:Parent>3</rasd:Parent>
        <rasd:ResourceType>17</rasd:ResourceType>
      </Item>
      <Item>
        <rasd:AutomaticAllocation>true</rasd:AutomaticAllocation>
        <rasd:Connection>VM Network</rasd:Connection>
        <rasd:ElementName>ethernet0</rasd:ElementName>
        <rasd:InstanceID>5</rasd:InstanceID>
        <rasd:ResourceType>10</rasd:ResourceType>
      </Item>
    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>
EOF
# The descriptor first, as OVF requires of an OVA.
tar --owner=0 --group=0 --numeric-owner --mtime=@1600000000 --format=ustar \
    --no-recursion -cf app.ova app.ovf app-disk1.img
