// The docs keep the key in a constants file and warn to read it from configuration in real apps.
export const jwtConstants = {
  // The issuer's public key as a PEM string (the docs' `secretOrKey`), given by the bench runner.
  secret: process.env.JWT_PUBLIC_KEY ?? '',
};
