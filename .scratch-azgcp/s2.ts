import { startAzurite } from '/work/main/test/helpers/backend-azure.ts';
import { BlobSASPermissions } from '@azure/storage-blob';
const az = await startAzurite();
await az.container.getBlockBlobClient('a').upload('hello', 5);
const src = az.container.getBlobClient('a');
const sas = await src.generateSasUrl({ permissions: BlobSASPermissions.parse('r'), expiresOn: new Date(Date.now() + 3600_000) });
console.log(sas.replace(/sig=[^&]+/, 'sig=…'));
try { await az.container.getBlockBlobClient('b').stageBlockFromURL('YWJj', sas, 0, 5); console.log('worked'); } catch (e: any) { console.log(e.statusCode, e.code); }
await az.kill();
