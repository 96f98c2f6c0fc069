# Imports (issue 5): virtual disks and ISOs from URLs, templates (single
# and split packages), assemblies (.ova and .ovf), templates from assembly
# VMs, template and assembly deletes, ISO rules; the URL policy (http and
# https only, import_allow, import_max_size, import_timeout), 404s,
# aborts, malicious archives; and repository contents surviving a server
# rediscovery and a repository refresh.
#
# The files come from the fixture server run.sh starts (${FIXTURE}:
# /files/NAME, /slow/NAME trickled, /nolength/NAME without
# Content-Length, /redirect/NAME, /redirect-private/X to 10.0.0.1) over
# the fixtures of tests/api/fixtures.sh; the bytes on disk are compared
# through its /stat view of the daemon's data directory (sha256). run.sh
# starts the daemon with import_allow=127.0.0.1/32, import_max_size=16 MiB
# and import_timeout=8 s.
#
# Set-up as 84-vdisks.t: sim-1 and sim-3, sim-nfs, repository A
# (exports/repo1, sim-1 and sim-3), B (repo2, sim-1), C (repo3, presented
# nowhere); everything is removed at the end.

set NFSPLUGIN oracle.generic.NFSPlugin.GenericNFSPlugin (1.1.0)
set NOREPO 0004fb00000300000000000000000000
set NOVM 0004fb00000400000000000000000000
set NOAVM 0004fb00001700000000000000000000
set NOAS 0004fb00001400000000000000000000
set EXP ${FIXTURE}/stat/data/sim/nfs/sim-nfs/exports
set TXT ${FIXTURE}/text/data/sim/nfs/sim-nfs/exports
set F ${FIXTURE}/files

# ---- set-up ---------------------------------------------------------------

=== discover sim-1 with ownership
POST /Server/discover?serverName=sim-1
body "agent-secret"
status 200
capture DJ1 id.value

=== sim-1 is there
GET /Job/${DJ1}?wait=30
status 200
expect jobRunState SUCCESS
capture S1 resultId.value

=== discover sim-3 with ownership
POST /Server/discover?serverName=sim-3
body "agent-secret"
status 200
capture DJ3 id.value

=== sim-3 is there
GET /Job/${DJ3}?wait=30
status 200
expect jobRunState SUCCESS
capture S3 resultId.value

=== register sim-nfs
POST /FileServer
body {"name": "im-nfs-${RAND}", "accessHost": "sim-nfs", "fileServerType": "NETWORK", "fileServerPluginId": {"value": "${NFSPLUGIN}"}, "adminServerIds": [{"value": "${S1}"}]}
status 200
capture FJ id.value

=== the file server is registered
GET /Job/${FJ}?wait=30
status 200
expect jobRunState SUCCESS
capture NFS resultId.value

=== its file systems
GET /FileServer/${NFS}/FileSystem
auth ro
status 200
expect-count 3
capture FS1 [0].id.value
capture FS2 [1].id.value
capture FS3 [2].id.value

=== repository A
POST /FileSystem/${FS1}/Repository
body {"name": "im-a-${RAND}"}
status 200
capture RJ1 id.value

=== A is created
GET /Job/${RJ1}?wait=30
status 200
expect jobRunState SUCCESS
capture RA resultId.value

=== repository B
POST /FileSystem/${FS2}/Repository
body {"name": "im-b-${RAND}"}
status 200
capture RJ2 id.value

=== B is created
GET /Job/${RJ2}?wait=30
status 200
expect jobRunState SUCCESS
capture RB resultId.value

=== repository C, presented nowhere
POST /FileSystem/${FS3}/Repository
body {"name": "im-c-${RAND}"}
status 200
capture RJ3 id.value

=== C is created
GET /Job/${RJ3}?wait=30
status 200
expect jobRunState SUCCESS
capture RC resultId.value

=== present A to sim-1
PUT /Repository/${RA}/present
body {"value": "${S1}"}
status 200
capture PJ1 id.value

=== presented
GET /Job/${PJ1}?wait=30
status 200
expect jobRunState SUCCESS

=== present A to sim-3
PUT /Repository/${RA}/present
body {"value": "${S3}"}
status 200
capture PJ2 id.value

=== presented to sim-3
GET /Job/${PJ2}?wait=30
status 200
expect jobRunState SUCCESS

=== present B to sim-1
PUT /Repository/${RB}/present
body {"value": "${S1}"}
status 200
capture PJ3 id.value

=== B is presented
GET /Job/${PJ3}?wait=30
status 200
expect jobRunState SUCCESS

# ---- the URL policy: refused before any job ----------------------------------

=== an import needs a URL
PUT /Repository/${RA}/importVirtualDisk
status 400
expect message ~url

=== ftp is not allowed
PUT /Repository/${RA}/importVirtualDisk?url=ftp://127.0.0.1/disk.img
status 400
expect errorCode INVALID_INPUT
expect message "URL scheme 'ftp' is not allowed: only http and https"

=== nor file URLs
PUT /Repository/${RA}/importIso?url=file:///etc/passwd
status 400
expect message ~scheme 'file' is not allowed

=== a URL without a host is refused
PUT /Repository/${RA}/importVirtualDisk?url=http://
status 400

=== a private address is forbidden, before any connection
PUT /Repository/${RA}/importVirtualDisk?url=http://10.0.0.1/disk.img
status 403
expect errorCode FORBIDDEN
expect message ~10.0.0.1 is private; not in import_allow

=== a loopback address outside import_allow is forbidden too
PUT /Repository/${RA}/importVirtualDisk?url=http://127.0.0.2:${FIXTURE_PORT}/files/disk.img
status 403
expect message ~127.0.0.2 is loopback; not in import_allow

=== so is a link-local one, for templates
PUT /Repository/${RA}/importTemplate?url=http://169.254.169.254/latest/template.tgz
status 403

=== and for assemblies
PUT /Repository/${RA}/importAssembly?url=http://[::1]/app.ova
status 403

=== diskType is VIRTUAL_DISK or VIRTUAL_CDROM
PUT /Repository/${RA}/importVirtualDisk?url=${F}/disk.img&diskType=FLOPPY
status 400

=== an import into an unknown repository is 404
PUT /Repository/${NOREPO}/importVirtualDisk?url=${F}/disk.img
status 404

=== an import into a repository presented nowhere is 409
PUT /Repository/${RC}/importIso?url=${F}/tiny.iso
status 409
expect message ~not presented to any running server

=== a read-only user cannot import
PUT /Repository/${RA}/importVirtualDisk?url=${F}/disk.img
auth ro
status 403

=== no job was made: A is empty
GET /Repository/${RA}/VirtualDisk
auth ro
status 200
expect-count 0

# ---- importVirtualDisk, importIso ------------------------------------------------

=== import a virtual disk
PUT /Repository/${RA}/importVirtualDisk?url=${F}/disk.img
status 200
expect name "Import Virtual Disk: ${F}/disk.img"
capture IJ1 id.value

=== the import succeeds and names the disk
GET /Job/${IJ1}?wait=60
status 200
expect jobRunState SUCCESS
expect resultId.type com.oracle.ovm.mgr.ws.model.VirtualDisk
expect resultId.name disk.img
capture VI resultId.value

=== the imported disk
GET /VirtualDisk/${VI}
auth ro
status 200
expect name disk.img
expect diskType VIRTUAL_DISK
expect size 1048576
expect importFileName disk.img
expect importUrl ${F}/disk.img
expect path /VirtualDisks/${VI}
expect repositoryId.value ${RA}

=== the fixture's bytes
GET ${FIXTURE}/stat/files/disk.img
schema none
status 200
expect size 1048576
capture SHA_DISK sha256

=== are on disk, byte for byte
GET ${EXP}/repo1/VirtualDisks/${VI}
schema none
status 200
expect size 1048576
expect sha256 ${SHA_DISK}

=== import an ISO through a redirect, with a name
PUT /Repository/${RA}/importIso?url=${FIXTURE}/redirect/tiny.iso&name=install-${RAND}
status 200
expect name "Import ISO: ${FIXTURE}/redirect/tiny.iso"
capture IJ2 id.value

=== the ISO import succeeds
GET /Job/${IJ2}?wait=60
status 200
expect jobRunState SUCCESS
capture ISO resultId.value

=== the ISO is a VIRTUAL_CDROM in ISOs/, with Oracle's .iso id
GET /VirtualDisk/${ISO}
auth ro
status 200
expect id.value ~0004fb000015
expect id.value ~.iso
expect name install-${RAND}
expect diskType VIRTUAL_CDROM
expect size 65536
expect path /ISOs/${ISO}
expect format iso
expect importFileName tiny.iso

=== the ISO fixture's bytes
GET ${FIXTURE}/stat/files/tiny.iso
schema none
status 200
capture SHA_ISO sha256

=== are in ISOs/, byte for byte
GET ${EXP}/repo1/ISOs/${ISO}
schema none
status 200
expect size 65536
expect sha256 ${SHA_ISO}

=== importVirtualDisk with diskType VIRTUAL_CDROM imports an ISO too
PUT /Repository/${RA}/importVirtualDisk?url=${F}/tiny.iso&diskType=VIRTUAL_CDROM&name=second-${RAND}
auth op
status 200
capture IJ3 id.value

=== that import succeeds
GET /Job/${IJ3}?wait=60
status 200
expect jobRunState SUCCESS
capture ISO2 resultId.value

=== it is an ISO
GET /VirtualDisk/${ISO2}
auth ro
status 200
expect diskType VIRTUAL_CDROM
expect path /ISOs/${ISO2}

=== the import raised an event
GET /Event?object=${ISO2}
auth ro
status 200
expect [0].type vdisk.imported

# ---- ISO rules ---------------------------------------------------------------------

=== ISOs cannot be resized
PUT /VirtualDisk/${ISO}
body {"size": 131072}
status 400
expect message ~ISOs cannot be resized

=== but they can be renamed
PUT /VirtualDisk/${ISO}
body {"name": "boot-${RAND}", "size": 65536}
status 200
capture RJ id.value

=== the rename succeeds
GET /Job/${RJ}?wait=30
status 200
expect jobRunState SUCCESS

=== ISOs are never thin-cloned
PUT /VirtualDisk/${ISO}/clone?cloneType=THIN_CLONE
status 400
expect message ~ISOs are copied

=== an ISO is copied into B
PUT /VirtualDisk/${ISO}/clone?cloneType=SPARSE_COPY&targetRepositoryId=${RB}&name=copied-${RAND}
status 200
capture CJ id.value

=== the ISO copy succeeds
GET /Job/${CJ}?wait=30
status 200
expect jobRunState SUCCESS
capture ISOC resultId.value

=== the copy is an ISO of B
GET /VirtualDisk/${ISOC}
auth ro
status 200
expect id.value ~.iso
expect diskType VIRTUAL_CDROM
expect repositoryId.value ${RB}

=== its bytes are the ISO's
GET ${EXP}/repo2/ISOs/${ISOC}
schema none
status 200
expect sha256 ${SHA_ISO}

# ---- imports that fail leave nothing --------------------------------------------

=== what A's VirtualDisks holds now
GET ${EXP}/repo1/VirtualDisks
schema none
status 200
capture VD_NOW entries

=== and ISOs
GET ${EXP}/repo1/ISOs
schema none
status 200
capture ISO_NOW entries

=== a URL that is not there
PUT /Repository/${RA}/importVirtualDisk?url=${F}/missing.img
status 200
capture FJ1 id.value

=== fails with the HTTP status
GET /Job/${FJ1}?wait=60
status 200
expect jobRunState FAILURE
expect error.message ~HTTP 404
expect error.message ~missing.img

=== a redirect to a private address
PUT /Repository/${RA}/importIso?url=${FIXTURE}/redirect-private/x.iso
status 200
capture FJ2 id.value

=== fails: redirects are checked too
GET /Job/${FJ2}?wait=60
status 200
expect jobRunState FAILURE
expect error.message ~10.0.0.1 is private

=== a file larger than import_max_size
PUT /Repository/${RA}/importVirtualDisk?url=${F}/big.img
status 200
capture FJ3 id.value

=== fails on the limit
GET /Job/${FJ3}?wait=60
status 200
expect jobRunState FAILURE
expect error.message ~larger than the limit of 16777216 bytes

=== the same without Content-Length
PUT /Repository/${RA}/importVirtualDisk?url=${FIXTURE}/nolength/big.img
status 200
capture FJ4 id.value

=== fails on the limit while it streams
GET /Job/${FJ4}?wait=60
status 200
expect jobRunState FAILURE
expect error.message ~larger than the limit

=== a download slower than import_timeout (8 s)
PUT /Repository/${RA}/importVirtualDisk?url=${FIXTURE}/slow/disk.img
status 200
capture FJ5 id.value

=== fails on the time limit
GET /Job/${FJ5}?wait=60
status 200
expect jobRunState FAILURE
expect error.message ~did not finish within

=== a slow download to abort
PUT /Repository/${RA}/importVirtualDisk?url=${FIXTURE}/slow/disk.img
status 200
capture AJ id.value

=== it is running and reports its progress
GET /Job/${AJ}
status 200
retry 10
expect jobRunState RUNNING
expect progressMessage ~of 1.0 MiB

=== abort it
PUT /Job/${AJ}/abort
status 200

=== it ends ABORTED
GET /Job/${AJ}?wait=30
status 200
expect jobRunState ABORTED
expect error.message ~aborted by admin

=== no file was left, not even a partial one
GET ${EXP}/repo1/VirtualDisks
schema none
status 200
expect entries ${VD_NOW}

=== nor in ISOs
GET ${EXP}/repo1/ISOs
schema none
status 200
expect entries ${ISO_NOW}

=== and no row: A has the disk and the two ISOs
GET /Repository/${RA}/VirtualDisk
auth ro
status 200
expect-count 3

# ---- importTemplate -----------------------------------------------------------------

=== a template import needs a URL
PUT /Repository/${RA}/importTemplate
status 400
expect message ~url

=== every part is checked
PUT /Repository/${RA}/importTemplate?urls=${F}/template-pv.tgz.0,ftp://127.0.0.1/part1
status 400
expect message ~ftp

=== a template name is a Vm name
PUT /Repository/${RA}/importTemplate?url=${F}/template.tgz&name=bad%20name
status 400

=== import an Oracle VM template
PUT /Repository/${RA}/importTemplate?url=${F}/template.tgz
status 200
expect name "Import Template: ${F}/template.tgz"
capture TJ1 id.value

=== the import succeeds and names the template
GET /Job/${TJ1}?wait=60
status 200
expect jobRunState SUCCESS
expect resultId.type com.oracle.ovm.mgr.ws.model.Vm
expect resultId.name OVM_OL7U9_x86_64_PVHVM
expect progressMessage ~2 virtual disk(s)
capture T1 resultId.value

=== the template: vm.cfg's CPUs, memory, domain type and OS
GET /Vm/${T1}
auth ro
status 200
expect id.value ~0004fb000004
expect name OVM_OL7U9_x86_64_PVHVM
expect vmRunState TEMPLATE
expect cpuCount 2
expect cpuCountLimit 4
expect memory 2048
expect memoryLimit 4096
expect vmDomainType XEN_HVM_PV_DRIVERS
expect highAvailability false
expect vmConfig.OVM_high_availability false
expect osType "Oracle Linux 7"
expect bootOrder ["CDROM", "DISK"]
expect repositoryId.value ${RA}
expect origin ${F}/template.tgz
expect-count vmDiskMappingIds 3
expect vmConfig.OVM_simple_name OVM_OL7U9_x86_64_PVHVM
expect vmConfig.name ${T1}

=== its disks are new virtual disks of A, named after their files
GET /Repository/${RA}/VirtualDisk
auth ro
status 200
expect-count 5
expect [0].name System.img
expect [0].importFileName System.img
expect [4].name u01.img
capture TS [0].id.value
capture TU [4].id.value

=== System.img is mapped at diskTarget 0
GET /VirtualDisk/${TS}
auth ro
status 200
expect size 524288
expect-count vmDiskMappingIds 1
capture MS vmDiskMappingIds[0].value

=== the mapping
GET /VmDiskMapping/${MS}
auth ro
status 200
expect vmId.value ${T1}
expect virtualDiskId.value ${TS}
expect diskTarget 0
expect diskWriteMode READ_WRITE
expect emulatedBlockDevice false

=== u01.img at diskTarget 1
GET /VirtualDisk/${TU}
auth ro
status 200
capture MU vmDiskMappingIds[0].value

=== its mapping
GET /VmDiskMapping/${MU}
auth ro
status 200
expect diskTarget 1

=== the empty CD-ROM drive at diskTarget 2
GET /Vm/${T1}/VmDiskMapping
auth ro
status 200
expect-count 3
expect [2].name "Mapping for empty CD-ROM"
expect [2].virtualDiskId null
expect [2].diskTarget 2
expect [2].diskWriteMode READ_ONLY

=== the vm.cfg in the row names the new disk paths
GET /Vm/${T1}
auth ro
status 200
expect vmConfig.disk[0] "file:/OVS/Repositories/${RA}/VirtualDisks/${TS},xvda,w"
expect vmConfig.disk[1] "file:/OVS/Repositories/${RA}/VirtualDisks/${TU},xvdb,w"
expect vmConfig.disk[2] ",hdc:cdrom,r"

=== the vm.cfg is stored as Templates/<id>.vm.cfg
GET ${EXP}/repo1/Templates
schema none
status 200
expect entries ["${T1}.vm.cfg"]

=== with the rewritten paths
GET ${TXT}/repo1/Templates/${T1}.vm.cfg
schema none
status 200
expect text ~'file:/OVS/Repositories/${RA}/VirtualDisks/${TS},xvda,w'
expect text ~'file:/OVS/Repositories/${RA}/VirtualDisks/${TU},xvdb,w'
expect text ~name = '${T1}'
expect text ~OVM_simple_name = 'OVM_OL7U9_x86_64_PVHVM'
expect-not text ~seed_pool

=== the package's System.img
GET ${FIXTURE}/stat/files/template-System.img
schema none
status 200
capture SHA_TS sha256

=== is on disk byte for byte
GET ${EXP}/repo1/VirtualDisks/${TS}
schema none
status 200
expect sha256 ${SHA_TS}

=== the package's u01.img
GET ${FIXTURE}/stat/files/template-u01.img
schema none
status 200
capture SHA_TU sha256

=== is on disk byte for byte
GET ${EXP}/repo1/VirtualDisks/${TU}
schema none
status 200
expect sha256 ${SHA_TU}

=== the import raised an event on the template
GET /Event?object=${T1}
auth ro
status 200
expect [0].type template.imported

=== a template's disk cannot be deleted
DELETE /VirtualDisk/${TS}
status 409
expect message ~used by template 'OVM_OL7U9_x86_64_PVHVM'

=== import a split package: its two parts, in order
PUT /Repository/${RA}/importTemplate?urls=${F}/template-pv.tgz.0,${F}/template-pv.tgz.1
status 200
expect name ~(split)
capture TJ2 id.value

=== the split import succeeds
GET /Job/${TJ2}?wait=60
status 200
expect jobRunState SUCCESS
capture T2 resultId.value

=== a PV template, its name made valid for a Vm
GET /Vm/${T2}
auth ro
status 200
expect name OVM_OL6U10_x86_64_PVM
expect vmDomainType XEN_PVM
expect highAvailability true
expect cpuCount 1
expect cpuCountLimit 1
expect memory 1024
expect memoryLimit 1024
expect osType "Oracle Linux 6"
expect-count vmDiskMappingIds 1
capture MP vmDiskMappingIds[0].value

=== its disk
GET /VmDiskMapping/${MP}
auth ro
status 200
expect diskTarget 0
capture TP virtualDiskId.value

=== the split package's disk is whole on disk
GET ${FIXTURE}/stat/files/template-pv-System.img
schema none
status 200
capture SHA_TP sha256

=== byte for byte
GET ${EXP}/repo1/VirtualDisks/${TP}
schema none
status 200
expect sha256 ${SHA_TP}

=== the parts again, as repeated url= parameters, with a name
PUT /Repository/${RA}/importTemplate?url=${F}/template-pv.tgz.0&url=${F}/template-pv.tgz.1&name=pv-${RAND}
auth op
status 200
capture TJ3 id.value

=== that import succeeds with the name asked
GET /Job/${TJ3}?wait=60
status 200
expect jobRunState SUCCESS
expect resultId.name pv-${RAND}
capture T3 resultId.value

=== the same package once more: its name is taken, a suffix is added
PUT /Repository/${RA}/importTemplate?urls=${F}/template-pv.tgz.0,${F}/template-pv.tgz.1
status 200
capture TJ4 id.value

=== the second copy is OVM_OL6U10_x86_64_PVM-2
GET /Job/${TJ4}?wait=60
status 200
expect jobRunState SUCCESS
expect resultId.name OVM_OL6U10_x86_64_PVM-2
capture T4 resultId.value

=== the parts in the wrong order are no archive
PUT /Repository/${RA}/importTemplate?urls=${F}/template-pv.tgz.1,${F}/template-pv.tgz.0
status 200
capture BJ0 id.value

=== that import fails
GET /Job/${BJ0}?wait=60
status 200
expect jobRunState FAILURE

# ---- templates that are not: nothing left behind --------------------------------------

=== A's VirtualDisks now
GET ${EXP}/repo1/VirtualDisks
schema none
status 200
capture VD_T entries

=== A's Templates now
GET ${EXP}/repo1/Templates
schema none
status 200
capture TPL_T entries

=== a package without vm.cfg
PUT /Repository/${RA}/importTemplate?url=${F}/novmcfg.tgz
status 200
capture BJ1 id.value

=== fails naming it
GET /Job/${BJ1}?wait=60
status 200
expect jobRunState FAILURE
expect error.message ~has no vm.cfg

=== a package with two
PUT /Repository/${RA}/importTemplate?url=${F}/twocfg.tgz
status 200
capture BJ2 id.value

=== fails naming both
GET /Job/${BJ2}?wait=60
status 200
expect jobRunState FAILURE
expect error.message ~more than one vm.cfg ('a/vm.cfg' and 'b/vm.cfg')

=== a vm.cfg naming a disk the package lacks
PUT /Repository/${RA}/importTemplate?url=${F}/missingdisk.tgz
status 200
capture BJ3 id.value

=== fails naming the disk, after System.img was unpacked
GET /Job/${BJ3}?wait=60
status 200
expect jobRunState FAILURE
expect error.message ~'Other.img' (xvdb) is not in the template package

=== an archive with a '../' entry
PUT /Repository/${RA}/importTemplate?url=${F}/evil-dotdot.tgz
status 200
capture EJ1 id.value

=== fails naming the entry
GET /Job/${EJ1}?wait=60
status 200
expect jobRunState FAILURE
expect error.message ~archive entry '../evil.img'

=== an archive with an absolute path
PUT /Repository/${RA}/importTemplate?url=${F}/evil-abs.tar
status 200
capture EJ2 id.value

=== fails naming it
GET /Job/${EJ2}?wait=60
status 200
expect jobRunState FAILURE
expect error.message ~'/tmp/ovmm-evil.img'

=== an archive with a symbolic link pointing out
PUT /Repository/${RA}/importTemplate?url=${F}/evil-link.tgz
status 200
capture EJ3 id.value

=== fails naming the link
GET /Job/${EJ3}?wait=60
status 200
expect jobRunState FAILURE
expect error.message ~'x/passwd.img'

=== something that is no archive
PUT /Repository/${RA}/importTemplate?url=${F}/disk.img
status 200
capture EJ4 id.value

=== fails, naming the package, not a temporary file
GET /Job/${EJ4}?wait=60
status 200
expect jobRunState FAILURE
expect error.message ~'disk.img'
expect-not error.message ~/proc/

=== a slow template to abort
PUT /Repository/${RA}/importTemplate?url=${FIXTURE}/slow/template-big.tgz
status 200
capture EJ5 id.value

=== it is downloading
GET /Job/${EJ5}
status 200
retry 10
expect jobRunState RUNNING
expect progressMessage ~downloading

=== abort it
PUT /Job/${EJ5}/abort
status 200

=== it ends ABORTED
GET /Job/${EJ5}?wait=30
status 200
expect jobRunState ABORTED

=== nothing was left in VirtualDisks
GET ${EXP}/repo1/VirtualDisks
schema none
status 200
expect entries ${VD_T}

=== nor in Templates
GET ${EXP}/repo1/Templates
schema none
status 200
expect entries ${TPL_T}

=== nor in the Manager's temporary directory
GET ${FIXTURE}/stat/data/tmp
schema none
status 200
expect entries []

=== and no template row was made: four templates
GET /Repository/${RA}/Vm
auth ro
status 200
expect-count 4

# ---- template edit and delete -----------------------------------------------------------

=== rename a template (the generic edit)
PUT /Vm/${T3}
body {"name": "pv-renamed-${RAND}", "description": "renamed"}
status 200
capture TE id.value

=== renamed
GET /Job/${TE}?wait=30
status 200
expect jobRunState SUCCESS

=== a Vm name has no spaces
PUT /Vm/${T3}
body {"name": "pv renamed"}
status 400

=== delete of an unknown Vm is 404
DELETE /Vm/${NOVM}
status 404

=== deleteDisks is true or false
DELETE /Vm/${T3}?deleteDisks=perhaps
status 400

=== a read-only user cannot delete a template
DELETE /Vm/${T3}
auth ro
status 403

=== thin-clone the template's u01.img, so it must stay
PUT /VirtualDisk/${TU}/clone?cloneType=THIN_CLONE&name=u01-thin-${RAND}
status 200
capture UJ id.value

=== the thin clone is made
GET /Job/${UJ}?wait=30
status 200
expect jobRunState SUCCESS
capture TUC resultId.value

=== delete the first template with its disks: the job says what it keeps
DELETE /Vm/${T1}?deleteDisks=true
status 200
expect name "Delete Template: OVM_OL7U9_x86_64_PVHVM"
expect description ~virtual disk 'u01.img' is kept: it is the base of thin clone 'u01-thin-${RAND}'
capture DT1 id.value

=== the delete succeeds
GET /Job/${DT1}?wait=30
status 200
expect jobRunState SUCCESS

=== the template is gone
GET /Vm/${T1}
auth ro
status 404

=== so are its mappings
GET /VmDiskMapping/${MS}
auth ro
status 404

=== System.img went with it
GET /VirtualDisk/${TS}
auth ro
status 404

=== its file too
GET ${EXP}/repo1/VirtualDisks/${TS}
schema none
status 200
expect exists false

=== u01.img stays, unmapped
GET /VirtualDisk/${TU}
auth ro
status 200
expect vmDiskMappingIds []

=== the vm.cfg is gone
GET ${EXP}/repo1/Templates/${T1}.vm.cfg
schema none
status 200
expect exists false

=== the delete raised an event
GET /Event?object=${T1}
auth ro
status 200
expect [0].type template.deleted

=== delete a template without its disks (the default)
DELETE /Vm/${T4}
auth op
status 200
capture DT2 id.value

=== deleted
GET /Job/${DT2}?wait=30
status 200
expect jobRunState SUCCESS

=== its disk stays
GET /Repository/${RA}/Vm
auth ro
status 200
expect-count 2

# ---- importAssembly ------------------------------------------------------------------------

=== an assembly import needs a URL
PUT /Repository/${RA}/importAssembly
status 400

=== and an http(s) one
PUT /Repository/${RA}/importAssembly?url=ftp://127.0.0.1/app.ova
status 400

=== import an OVA
PUT /Repository/${RA}/importAssembly?url=${F}/app.ova
status 200
expect name "Import Assembly: ${F}/app.ova"
capture AJ1 id.value

=== the import succeeds and names the assembly
GET /Job/${AJ1}?wait=60
status 200
expect jobRunState SUCCESS
expect resultId.type com.oracle.ovm.mgr.ws.model.Assembly
expect resultId.name app
capture AS resultId.value

=== the assembly
GET /Assembly/${AS}
auth ro
status 200
expect id.value ~0004fb000014
expect name app
expect origin ${F}/app.ova
expect fileName ${AS}.ovf
expect repositoryId.value ${RA}
expect-count assemblyVmIds 1
expect-count assemblyVirtualDiskIds 1

=== its virtual machine, from the OVF
GET /Assembly/${AS}/AssemblyVm
auth ro
status 200
expect-count 1
expect [0].name web-1
expect [0].cpuCount 2
expect [0].memory 1024
expect [0].osType "Oracle Linux 7 (64-bit)"
expect [0].networkNames ["VM Network"]
expect [0].assemblyId.value ${AS}
capture AVM [0].id.value

=== its disk
GET /Assembly/${AS}/AssemblyVirtualDisk
auth ro
status 200
expect-count 1
expect [0].size 1048576
expect [0].fileName ${AS}-0.img
expect [0].diskIndex 0
expect [0].assemblyVmId.value ${AVM}

=== the repository lists it
GET /Repository/${RA}/Assembly
auth ro
status 200
expect-count 1

=== stored in Assemblies/: the descriptor and the disk
GET ${EXP}/repo1/Assemblies
schema none
status 200
expect entries ["${AS}-0.img", "${AS}.ovf"]

=== the OVA's disk
GET ${FIXTURE}/stat/files/app-disk1.img
schema none
status 200
capture SHA_APP sha256

=== byte for byte
GET ${EXP}/repo1/Assemblies/${AS}-0.img
schema none
status 200
expect sha256 ${SHA_APP}

=== import the same assembly as an .ovf with its disk beside it
PUT /Repository/${RA}/importAssembly?url=${F}/app.ovf&name=app-ovf-${RAND}
auth op
status 200
capture AJ2 id.value

=== that import succeeds
GET /Job/${AJ2}?wait=60
status 200
expect jobRunState SUCCESS
expect resultId.name app-ovf-${RAND}
capture AS2 resultId.value

=== its disk was fetched from the URL next to the descriptor
GET ${EXP}/repo1/Assemblies/${AS2}-0.img
schema none
status 200
expect sha256 ${SHA_APP}

=== its virtual machine
GET /Assembly/${AS2}/AssemblyVm
auth ro
status 200
capture AVM2 [0].id.value

=== make a template from the OVA's virtual machine
PUT /AssemblyVm/${AVM}/createVm
status 200
expect name "Create Template from Assembly VM: web-1"
capture CV1 id.value

=== the template is made
GET /Job/${CV1}?wait=60
status 200
expect jobRunState SUCCESS
expect resultId.type com.oracle.ovm.mgr.ws.model.Vm
expect resultId.name web-1
capture T5 resultId.value

=== the template from the assembly
GET /Vm/${T5}
auth ro
status 200
expect vmRunState TEMPLATE
expect cpuCount 2
expect memory 1024
expect vmDomainType XEN_HVM
expect osType "Oracle Linux 7 (64-bit)"
expect repositoryId.value ${RA}
expect-count vmDiskMappingIds 1
capture M5 vmDiskMappingIds[0].value

=== its disk, copied into VirtualDisks/
GET /VmDiskMapping/${M5}
auth ro
status 200
capture D5 virtualDiskId.value

=== links back to the assembly's disk
GET /VirtualDisk/${D5}
auth ro
status 200
expect assemblyVirtualDiskId.value ~0004fb000019
expect path /VirtualDisks/${D5}

=== with the assembly disk's bytes
GET ${EXP}/repo1/VirtualDisks/${D5}
schema none
status 200
expect sha256 ${SHA_APP}

=== Oracle's createFromAssemblyVm does the same for the second assembly
PUT /Vm/createFromAssemblyVm/${AVM2}
status 200
capture CV2 id.value

=== a second web-1 template, with a suffix
GET /Job/${CV2}?wait=60
status 200
expect jobRunState SUCCESS
expect resultId.name web-1-2
capture T6 resultId.value

=== createVm of an unknown AssemblyVm is 404
PUT /AssemblyVm/${NOAVM}/createVm
status 404

=== a read-only user cannot make templates
PUT /AssemblyVm/${AVM}/createVm
auth ro
status 403

# ---- the contents survive a rediscovery and a refresh -----------------------------------

=== A's disks and ISOs before
GET /Repository/${RA}/VirtualDisk
auth ro
status 200
capture-count NVD

=== A's templates before
GET /Repository/${RA}/Vm
auth ro
status 200
capture-count NVM

=== rediscover sim-1
PUT /Server/${S1}/rediscover
status 200
capture RD id.value

=== the rediscovery succeeds
GET /Job/${RD}?wait=60
status 200
expect jobRunState SUCCESS

=== the disks are all there
GET /Repository/${RA}/VirtualDisk
auth ro
status 200
expect-count ${NVD}

=== and the templates
GET /Repository/${RA}/Vm
auth ro
status 200
expect-count ${NVM}

=== A is still presented to sim-1
GET /Repository/${RA}
auth ro
status 200
expect-count presentedServerIds 2

=== refresh A
PUT /Repository/${RA}/refresh
status 200
capture RF id.value

=== the refresh succeeds
GET /Job/${RF}?wait=60
status 200
expect jobRunState SUCCESS

=== it found nothing new and lost nothing
GET /Repository/${RA}/VirtualDisk
auth ro
status 200
expect-count ${NVD}

=== the templates are the same
GET /Repository/${RA}/Vm
auth ro
status 200
expect-count ${NVM}

=== the assembly's template keeps its disk mapping
GET /Vm/${T5}
auth ro
status 200
expect vmRunState TEMPLATE
expect-count vmDiskMappingIds 1

=== and the ISO its name
GET /VirtualDisk/${ISO}
auth ro
status 200
expect name boot-${RAND}
expect diskType VIRTUAL_CDROM

=== the assemblies are there
GET /Repository/${RA}/Assembly
auth ro
status 200
expect-count 2

# ---- assembly delete ---------------------------------------------------------------------

=== an assembly is deleted through its own repository only
DELETE /Repository/${RB}/Assembly/${AS}
status 404

=== delete of an unknown assembly is 404
DELETE /Assembly/${NOAS}
status 404

=== a read-only user cannot delete assemblies
DELETE /Assembly/${AS}
auth ro
status 403

=== delete the OVA's assembly
DELETE /Assembly/${AS}
status 200
expect name "Delete Assembly: app"
capture DA1 id.value

=== deleted
GET /Job/${DA1}?wait=30
status 200
expect jobRunState SUCCESS

=== its rows are gone
GET /AssemblyVm/${AVM}
auth ro
status 404

=== the template made from it stays
GET /Vm/${T5}
auth ro
status 200
expect vmRunState TEMPLATE

=== delete the other through its repository
DELETE /Repository/${RA}/Assembly/${AS2}
auth op
status 200
capture DA2 id.value

=== deleted too
GET /Job/${DA2}?wait=30
status 200
expect jobRunState SUCCESS

=== Assemblies/ is empty
GET ${EXP}/repo1/Assemblies
schema none
status 200
expect entries []

# ---- clean-up -------------------------------------------------------------------------------

=== delete the renamed PV template with its disks
DELETE /Vm/${T3}?deleteDisks=true
status 200
capture Z1 id.value

=== done
GET /Job/${Z1}?wait=30
status 200
expect jobRunState SUCCESS

=== delete the split template with its disks
DELETE /Vm/${T2}?deleteDisks=true
status 200
capture Z2 id.value

=== done too
GET /Job/${Z2}?wait=30
status 200
expect jobRunState SUCCESS

=== delete the first assembly template with its disks
DELETE /Vm/${T5}?deleteDisks=true
status 200
capture Z3 id.value

=== deleted
GET /Job/${Z3}?wait=30
status 200
expect jobRunState SUCCESS

=== delete the second assembly template with its disks
DELETE /Vm/${T6}?deleteDisks=true
status 200
capture Z4 id.value

=== deleted as well
GET /Job/${Z4}?wait=30
status 200
expect jobRunState SUCCESS

=== no template is left
GET /Vm
auth ro
status 200
expect-count 0

=== the thin clone of u01.img
DELETE /VirtualDisk/${TUC}
status 200
capture Z5 id.value

=== gone
GET /Job/${Z5}?wait=30
status 200
expect jobRunState SUCCESS

=== then u01.img
DELETE /VirtualDisk/${TU}
status 200
capture Z6 id.value

=== gone too
GET /Job/${Z6}?wait=30
status 200
expect jobRunState SUCCESS

=== the PV System.img left by the template deleted without disks
GET /Repository/${RA}/VirtualDisk
auth ro
status 200
expect-count 4
capture L0 [0].id.value
capture L1 [1].id.value
capture L2 [2].id.value
capture L3 [3].id.value

=== delete it
DELETE /VirtualDisk/${L0}
status 200
capture Z7 id.value

=== deleted
GET /Job/${Z7}?wait=30
status 200
expect jobRunState SUCCESS

=== the next
DELETE /VirtualDisk/${L1}
status 200
capture Z8 id.value

=== deleted 2
GET /Job/${Z8}?wait=30
status 200
expect jobRunState SUCCESS

=== the next
DELETE /VirtualDisk/${L2}
status 200
capture Z9 id.value

=== deleted 3
GET /Job/${Z9}?wait=30
status 200
expect jobRunState SUCCESS

=== the last
DELETE /VirtualDisk/${L3}
status 200
capture Z10 id.value

=== deleted 4
GET /Job/${Z10}?wait=30
status 200
expect jobRunState SUCCESS

=== the ISO copy in B
DELETE /VirtualDisk/${ISOC}
status 200
capture Z11 id.value

=== deleted 5
GET /Job/${Z11}?wait=30
status 200
expect jobRunState SUCCESS

=== nothing is left in A
GET ${EXP}/repo1/VirtualDisks
schema none
status 200
expect entries []

=== nor in its ISOs or Templates
GET ${EXP}/repo1/Templates
schema none
status 200
expect entries []

=== no disk is left
GET /VirtualDisk
auth ro
status 200
expect-count 0

=== unpresent A from sim-1
PUT /Repository/${RA}/unpresent
body {"value": "${S1}"}
status 200
capture U1 id.value

=== done
GET /Job/${U1}?wait=30
status 200
expect jobRunState SUCCESS

=== unpresent A from sim-3
PUT /Repository/${RA}/unpresent
body {"value": "${S3}"}
status 200
capture U2 id.value

=== done too
GET /Job/${U2}?wait=30
status 200
expect jobRunState SUCCESS

=== unpresent B
PUT /Repository/${RB}/unpresent
body {"value": "${S1}"}
status 200
capture U3 id.value

=== B unpresented
GET /Job/${U3}?wait=30
status 200
expect jobRunState SUCCESS

=== delete A
DELETE /Repository/${RA}
status 200
capture Y1 id.value

=== A deleted
GET /Job/${Y1}?wait=30
status 200
expect jobRunState SUCCESS

=== delete B
DELETE /Repository/${RB}
status 200
capture Y2 id.value

=== B deleted
GET /Job/${Y2}?wait=30
status 200
expect jobRunState SUCCESS

=== delete C
DELETE /Repository/${RC}
status 200
capture Y3 id.value

=== C deleted
GET /Job/${Y3}?wait=30
status 200
expect jobRunState SUCCESS

=== delete the file server
DELETE /FileServer/${NFS}
status 200
capture Y4 id.value

=== the file server is deleted
GET /Job/${Y4}?wait=30
status 200
expect jobRunState SUCCESS
