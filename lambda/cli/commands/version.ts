import { Command } from 'commander';
import { CliContext } from '../context';

/** `signed-image version`, laid out as `notation version` prints it (cmd/notation/version.go). */
export function registerVersion(program: Command, { io }: CliContext, version: string): void {
  program
    .command('version')
    .description('show the signed-image version information')
    .action(() => {
      io.stdout('signed-image - sign and verify container images as Notary Project signatures (notation compatible).\n\n');
      io.stdout(`Version:      ${version}\n`);
      io.stdout(`Node version: ${process.version}\n`);
      io.stdout(`OS/Arch:      ${process.platform}/${process.arch}\n`);
    });
}
