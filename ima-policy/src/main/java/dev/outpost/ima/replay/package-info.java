/** Template-hash checks and PCR 10 replay for every bank, in both ways kernels have extended non-SHA-1 banks. */
package dev.outpost.ima.replay;
