// Signs eth_signTypedData_v4 JSON with ethers.js, an EIP-712 implementation independent of ours.
// usage: node sign-typed-data.mjs <private-key-hex>  < typed-data.json  -> {"signature", "digest", "signer"}
import { readFileSync } from "node:fs";
import { Wallet, TypedDataEncoder } from "ethers";

const typedData = JSON.parse(readFileSync(0, "utf8"));
const wallet = new Wallet(process.argv[2]);
// ethers derives EIP712Domain from the domain object itself and refuses it among the types.
const { EIP712Domain, ...types } = typedData.types;
const signature = await wallet.signTypedData(typedData.domain, types, typedData.message);
const digest = TypedDataEncoder.hash(typedData.domain, types, typedData.message);
process.stdout.write(JSON.stringify({ signature, digest, signer: wallet.address }));
