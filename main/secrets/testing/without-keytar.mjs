// `node --import ./without-keytar.mjs ...`: the process behaves as if the optional
// keytar module had not been installed (as after `npm ci` where it could not build).
import { register } from 'node:module';

register(
  'data:text/javascript,' +
    encodeURIComponent(`export async function resolve(specifier, context, next) {
      if (specifier === 'keytar') {
        const error = new Error("Cannot find package 'keytar'");
        error.code = 'ERR_MODULE_NOT_FOUND';
        throw error;
      }
      return next(specifier, context);
    }`),
);
